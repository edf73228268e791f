using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// The statements of a channel's queue that <see cref="QueueStore"/> runs inside its callers' transactions (the
/// channel's schedule row already locked): which slots are free, making room at the head, closing a gap.
/// </summary>
internal static class QueueSlotStatements
{
    /// <summary>Statuses of a post that holds its minute: it is or may still be published, or has been.</summary>
    private static readonly string[] Live = ["draft", "pending_approval", "queued", "publishing", "published", "unconfirmed"];
    private static readonly string[] Cancellable = PostLifecycle.Words(PostLifecycle.Cancellable);

    public static FailedPreconditionException NoFreeSlot() => new("The channel's posting schedule has no free slot within two years.");

    public static async Task<DateTimeOffset?> LastQueuePostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
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
    public static async Task<List<DateTimeOffset>> FreeSlotsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
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
    public static async Task<DateTimeOffset> MakeRoomAtHeadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
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

    public static async Task MoveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(Guid Id, DateTimeOffset To)> moves,
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
    public static async Task CloseGapAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId, DateTimeOffset removedAt,
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
