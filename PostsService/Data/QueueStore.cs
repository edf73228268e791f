using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>A channel's posting schedule as stored.</summary>
public sealed record StoredSchedule(Guid ChannelId, string TimeZone, IReadOnlyList<WeeklySlot> Slots, bool CloseGaps)
{
    public PostingSlots Slotting => new(TimeZoneInfo.FindSystemTimeZoneById(TimeZone), Slots);
}

/// <summary>One occurrence of a recurring series inside a range: the series' current post and the occurrence's time.</summary>
public sealed record StoredOccurrence(Guid PostId, Guid ChannelId, DateTimeOffset PublishAt);

/// <summary>
/// Posting schedules and the queue (issue 16). Every call runs as the caller under row-level security. Adds to a
/// channel's queue lock the channel's schedule row for update, so concurrent adds, from any replica, take their
/// slots one after the other and never the same one; a slot is free when no live post of the channel (a queue post
/// or one with a custom time) is within its minute.
/// </summary>
public sealed class QueueStore(PostsDatabase database)
{
    /// <summary>Statuses of a post that holds its minute: it is or may still be published, or has been.</summary>
    private static readonly string[] Live = ["draft", "pending_approval", "queued", "publishing", "published", "unconfirmed"];
    private static readonly string[] Cancellable = PostLifecycle.Words(PostLifecycle.Cancellable);
    private const int MaxOccurrences = 1000;

    public Task<StoredSchedule?> GetScheduleAsync(Guid userId, Guid channelId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, (connection, transaction) =>
            ReadScheduleAsync(connection, transaction, channelId, forUpdate: false, cancellationToken), cancellationToken);

    /// <summary>Creates or replaces the channel's schedule; null when the channel is not the caller's to see.</summary>
    public Task<StoredSchedule?> SaveScheduleAsync(Guid userId, StoredSchedule schedule, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<StoredSchedule?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnChannelAsync(connection, transaction, schedule.ChannelId, WorkspaceRoles.ManageChannels,
                    "change posting schedules", cancellationToken))
            {
                return null;
            }
            await using var save = new NpgsqlCommand("""
                insert into posting_schedules (channel_id, workspace_id, time_zone, slots, close_gaps)
                select id, workspace_id, @zone, @slots, @close_gaps from channels where id = @channel and deleted_at is null
                on conflict (channel_id) do update set time_zone = excluded.time_zone, slots = excluded.slots, close_gaps = excluded.close_gaps
                """, connection, transaction);
            save.Parameters.AddWithValue("channel", schedule.ChannelId);
            save.Parameters.AddWithValue("zone", schedule.TimeZone);
            save.Parameters.AddWithValue("slots", schedule.Slots.Select(s => s.ToDb()).ToArray());
            save.Parameters.AddWithValue("close_gaps", schedule.CloseGaps);
            return await save.ExecuteNonQueryAsync(cancellationToken) == 1 ? schedule : null;
        }, cancellationToken);

    /// <summary>The next <paramref name="count"/> free slots after <paramref name="now"/>; null when the channel has no schedule the caller can see.</summary>
    public Task<List<DateTimeOffset>?> FindNextSlotsAsync(Guid userId, Guid channelId, int count, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<List<DateTimeOffset>?>(userId, async (connection, transaction) =>
            await ReadScheduleAsync(connection, transaction, channelId, forUpdate: false, cancellationToken) is { } schedule
                ? await FreeSlotsAsync(connection, transaction, channelId, schedule.Slotting, now, count, [], cancellationToken)
                : null, cancellationToken);

    /// <summary>
    /// Creates <paramref name="post"/> in a free slot of its channel's schedule: the first after the channel's last
    /// live queue post, or with <paramref name="publishNext"/> the earliest from now. The channel is loaded and
    /// checked as every create's is (visible, role, content, approval), and a repeated request_id returns the first
    /// post. FAILED_PRECONDITION when the channel has no schedule or no free slot.
    /// </summary>
    public Task<ScheduledPost> AddAsync(Guid userId, NewPost post, bool publishNext, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channels = await PostInserts.LoadCheckedChannelsAsync(connection, transaction, userId, [post], cancellationToken);
            var schedule = await ReadScheduleAsync(connection, transaction, post.ChannelId, forUpdate: true, cancellationToken)
                ?? throw NoSchedule();
            DateTimeOffset slot;
            if (publishNext)
            {
                slot = await MakeRoomAtHeadAsync(connection, transaction, post.ChannelId, schedule.Slotting, now, cancellationToken);
            }
            else
            {
                var from = await LastQueuePostAsync(connection, transaction, post.ChannelId, cancellationToken) is { } last && last >= now
                    ? last.AddMinutes(1)
                    : now;
                slot = (await FreeSlotsAsync(connection, transaction, post.ChannelId, schedule.Slotting, from, 1, [], cancellationToken))
                    .Cast<DateTimeOffset?>().FirstOrDefault() ?? throw NoFreeSlot();
            }
            var created = (await PostInserts.InsertAsync(connection, transaction, [(userId, [post with { PublishAt = slot }], channels)], cancellationToken))[0][0]
                .PostOrThrow();
            await using var mark = new NpgsqlCommand("""
                insert into queue_posts (post_id, channel_id, workspace_id) select id, channel_id, workspace_id from scheduled_posts where id = @id
                on conflict (post_id) do nothing
                """, connection, transaction);
            mark.Parameters.AddWithValue("id", Guid.Parse(created.Id));
            await mark.ExecuteNonQueryAsync(cancellationToken);
            return created;
        }, cancellationToken);

    /// <summary>
    /// Cancels a queue post; with the schedule's close_gaps, each later queue post of the channel that has not gone
    /// out takes the slot of the one before it (a post that needs approval goes back to pending_approval when its time
    /// changes, as on any edit). Null when the post is not the caller's to see.
    /// </summary>
    public Task<ScheduledPost?> RemoveAsync(Guid userId, Guid postId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, postId, WorkspaceRoles.ChangePosts, "remove posts from the queue",
                    cancellationToken))
            {
                return null;
            }
            await using var find = new NpgsqlCommand("select channel_id from queue_posts where post_id = @id", connection, transaction);
            find.Parameters.AddWithValue("id", postId);
            if (await find.ExecuteScalarAsync(cancellationToken) is not Guid channelId)
            {
                throw new FailedPreconditionException("The post is not in its channel's queue (it was created with its own time).");
            }
            var schedule = await ReadScheduleAsync(connection, transaction, channelId, forUpdate: true, cancellationToken);
            await using var cancel = new NpgsqlCommand($"""
                update scheduled_posts set status = 'cancelled', lease_expires_at = null
                where id = @id and status = any(@cancellable)
                returning {PostRows.Columns}
                """, connection, transaction);
            cancel.Parameters.AddWithValue("id", postId);
            cancel.Parameters.AddWithValue("cancellable", Cancellable);
            if (await PostRows.ReadSingleAsync(cancel, cancellationToken) is not { } cancelled)
            {
                var current = await PostRows.ReadStatusAsync(connection, transaction, postId, cancellationToken);
                throw PostLifecycle.CancelRefused(current!.Value.Status, current.Value.Version, null);
            }
            await using var unmark = new NpgsqlCommand("delete from queue_posts where post_id = @id", connection, transaction);
            unmark.Parameters.AddWithValue("id", postId);
            await unmark.ExecuteNonQueryAsync(cancellationToken);
            if (schedule is { CloseGaps: true })
            {
                await CloseGapAsync(connection, transaction, channelId, cancelled.PublishAt.ToDateTimeOffset(), cancellationToken);
            }
            return cancelled;
        }, cancellationToken);

    /// <summary>
    /// The occurrences of the caller's recurring series (not yet out: queued, pending approval or draft) in
    /// [<paramref name="start"/>, <paramref name="end"/>), each series evaluated as its next occurrences will be
    /// created (<see cref="Recurrence.NextOccurrence"/> from the series' anchor), in time order.
    /// </summary>
    public Task<List<StoredOccurrence>> ListOccurrencesAsync(Guid userId, DateTimeOffset start, DateTimeOffset end, Guid? channelId, Guid? workspaceId,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand("""
                select id, channel_id, publish_at, coalesce(series_start, publish_at), rrule, time_zone from scheduled_posts
                where rrule is not null and status in ('queued', 'pending_approval', 'draft') and publish_at < @end
                  and (@channel::uuid is null or channel_id = @channel) and (@workspace::uuid is null or workspace_id = @workspace)
                """, connection, transaction);
            query.Parameters.AddWithValue("end", end);
            query.Parameters.Add(new NpgsqlParameter("channel", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)channelId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value });
            var occurrences = new List<StoredOccurrence>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken) && occurrences.Count < MaxOccurrences)
            {
                var (id, channel) = (reader.GetGuid(0), reader.GetGuid(1));
                var (publishAt, anchor) = (reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3));
                var (rule, zone) = (reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
                for (DateTimeOffset? at = publishAt; at is { } t && t < end && occurrences.Count < MaxOccurrences;
                     at = Recurrence.NextOccurrence(rule, zone, anchor, t))
                {
                    if (t >= start)
                    {
                        occurrences.Add(new StoredOccurrence(id, channel, t));
                    }
                }
            }
            return occurrences.OrderBy(o => o.PublishAt).ThenBy(o => o.PostId).ToList();
        }, cancellationToken);

    private static FailedPreconditionException NoFreeSlot() => new("The channel's posting schedule has no free slot within two years.");

    private static FailedPreconditionException NoSchedule() =>
        new("The channel has no posting schedule; set one with UpdatePostingSchedule.");

    private static async Task<StoredSchedule?> ReadScheduleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        bool forUpdate, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand(
            "select time_zone, slots, close_gaps from posting_schedules where channel_id = @channel" + (forUpdate ? " for update" : ""),
            connection, transaction);
        query.Parameters.AddWithValue("channel", channelId);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new StoredSchedule(channelId, reader.GetString(0), reader.GetFieldValue<string[]>(1).Select(WeeklySlot.FromDb).ToList(), reader.GetBoolean(2));
    }

    private static async Task<DateTimeOffset?> LastQueuePostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("""
            select max(p.publish_at) from queue_posts q join scheduled_posts p on p.id = q.post_id
            where q.channel_id = @channel and p.status = any(@live)
            """, connection, transaction);
        query.Parameters.AddWithValue("channel", channelId);
        query.Parameters.AddWithValue("live", Live);
        return await query.ExecuteScalarAsync(cancellationToken) is DateTime last ? new DateTimeOffset(last, TimeSpan.Zero) : null;
    }

    /// <summary>
    /// The first <paramref name="count"/> slots from <paramref name="from"/> with no live post of the channel within
    /// their minute, the posts <paramref name="ignored"/> aside.
    /// </summary>
    private static async Task<List<DateTimeOffset>> FreeSlotsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        PostingSlots slots, DateTimeOffset from, int count, Guid[] ignored, CancellationToken cancellationToken)
    {
        var free = new List<DateTimeOffset>(count);
        // Candidates are checked a chunk at a time, each chunk against the posts of its span in one query.
        foreach (var chunk in slots.From(from).Chunk(Math.Max(count * 2, 16)))
        {
            await using var query = new NpgsqlCommand("""
                select publish_at from scheduled_posts
                where channel_id = @channel and status = any(@live) and publish_at >= @first and publish_at < @last + interval '1 minute'
                  and id <> all(@ignored)
                """, connection, transaction);
            query.Parameters.AddWithValue("ignored", ignored);
            query.Parameters.AddWithValue("channel", channelId);
            query.Parameters.AddWithValue("live", Live);
            query.Parameters.AddWithValue("first", chunk[0]);
            query.Parameters.AddWithValue("last", chunk[^1]);
            var taken = new List<DateTimeOffset>();
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    taken.Add(reader.GetFieldValue<DateTimeOffset>(0));
                }
            }
            foreach (var slot in chunk)
            {
                if (!taken.Any(t => t >= slot && t < slot.AddMinutes(1)))
                {
                    free.Add(slot);
                    if (free.Count == count)
                    {
                        return free;
                    }
                }
            }
        }
        return free;
    }

    /// <summary>
    /// Frees the earliest slot from <paramref name="now"/> that no custom-time post holds, for a post put at the head
    /// of the queue, and returns it: the queue post in it moves to the next such slot, the one there to the next, and
    /// so on until a post moves into a free slot (a gap stops the push). Posts that have gone out do not move.
    /// </summary>
    private static async Task<DateTimeOffset> MakeRoomAtHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        PostingSlots slots, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var movable = new List<(Guid Id, DateTimeOffset At)>();
        await using (var query = new NpgsqlCommand("""
            select p.id, p.publish_at from queue_posts q join scheduled_posts p on p.id = q.post_id
            where q.channel_id = @channel and p.status = any(@cancellable) and p.publish_at >= @now
            order by p.publish_at, p.id
            """, connection, transaction))
        {
            query.Parameters.AddWithValue("channel", channelId);
            query.Parameters.AddWithValue("cancellable", Cancellable);
            query.Parameters.AddWithValue("now", now);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                movable.Add((reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }
        // Each displaced post takes the next slot, so the head and the posts pushed need at most one slot more than there are queue posts.
        var open = await FreeSlotsAsync(connection, transaction, channelId, slots, now, movable.Count + 1, [.. movable.Select(m => m.Id)], cancellationToken);
        if (open.Count == 0)
        {
            throw NoFreeSlot();
        }
        var moves = new List<(Guid Id, DateTimeOffset To)>();
        for (var i = 0; i + 1 < open.Count; i++)
        {
            var occupant = movable.FindIndex(m => m.At >= open[i] && m.At < open[i].AddMinutes(1));
            if (occupant < 0)
            {
                break;
            }
            moves.Add((movable[occupant].Id, open[i + 1]));
        }
        await MoveAsync(connection, transaction, moves, cancellationToken);
        return open[0];
    }

    private static async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Guid Id, DateTimeOffset To)> moves,
        CancellationToken cancellationToken)
    {
        if (moves.Count == 0)
        {
            return;
        }
        await using var move = new NpgsqlCommand("""
            update scheduled_posts p set publish_at = m.to_at, due_at = m.to_at
            from unnest(@ids, @times) as m(id, to_at) where p.id = m.id
            """, connection, transaction);
        move.Parameters.AddWithValue("ids", moves.Select(m => m.Id).ToArray());
        move.Parameters.AddWithValue("times", moves.Select(m => m.To).ToArray());
        await move.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Moves each later queue post of the channel that has not gone out into the slot of the one before it.</summary>
    private static async Task CloseGapAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId, DateTimeOffset removedAt,
        CancellationToken cancellationToken)
    {
        await using var shift = new NpgsqlCommand("""
            update scheduled_posts p set publish_at = moved.new_at, due_at = moved.new_at
            from (
                select p2.id, lag(p2.publish_at, 1, @removed) over (order by p2.publish_at, p2.id) as new_at
                from queue_posts q join scheduled_posts p2 on p2.id = q.post_id
                where q.channel_id = @channel and p2.status = any(@cancellable) and p2.publish_at > @removed
            ) moved
            where p.id = moved.id
            """, connection, transaction);
        shift.Parameters.AddWithValue("channel", channelId);
        shift.Parameters.AddWithValue("removed", removedAt);
        shift.Parameters.AddWithValue("cancellable", Cancellable);
        await shift.ExecuteNonQueryAsync(cancellationToken);
    }
}
