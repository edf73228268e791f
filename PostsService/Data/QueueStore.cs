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
                ? await QueueSlotStatements.FreeSlotsAsync(connection, transaction, channelId, schedule.Slotting, now, count, [], cancellationToken)
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
                slot = await QueueSlotStatements.MakeRoomAtHeadAsync(connection, transaction, post.ChannelId, schedule.Slotting, now, cancellationToken);
            }
            else
            {
                var from = await QueueSlotStatements.LastQueuePostAsync(connection, transaction, post.ChannelId, cancellationToken) is { } last && last >= now
                    ? last.AddMinutes(1)
                    : now;
                slot = (await QueueSlotStatements.FreeSlotsAsync(connection, transaction, post.ChannelId, schedule.Slotting, from, 1, [], cancellationToken))
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
                await QueueSlotStatements.CloseGapAsync(connection, transaction, channelId, cancelled.PublishAt.ToDateTimeOffset(), cancellationToken);
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

    private static FailedPreconditionException NoFreeSlot() => QueueSlotStatements.NoFreeSlot();

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
}
