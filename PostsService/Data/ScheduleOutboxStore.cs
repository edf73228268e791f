using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>
/// One change of the schedule outbox, with its post as it is now: <see cref="DueAt"/> is set while the post is
/// queued and its channel does not hold it (index it there), and null otherwise (take it out of the index; the post
/// may be gone, or wait for its paused or disconnected channel).
/// </summary>
public sealed record OutboxChange(long ChangeId, Guid PostId, DateTime? DueAt, int Version, string? Traceparent);

/// <summary>A queued post: when it is due, and the version that due time belongs to.</summary>
public sealed record DuePost(Guid PostId, DateTime DueAt, int Version);

/// <summary>
/// The schedule outbox, which SchedulerService relays into its index (a trigger on scheduled_posts fills it in the
/// transaction of each change), and the queued posts the index is rebuilt from. Owner pool: no row-level security.
/// </summary>
public sealed class ScheduleOutboxStore(PostsDatabase database)
{
    /// <summary>The oldest <paramref name="max"/> changes, in the order they were made.</summary>
    public async Task<List<OutboxChange>> ReadAsync(int max, CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select o.id, o.post_id, p.status, p.due_at, p.version, p.traceparent, p.held
            from (select id, post_id from schedule_outbox order by id limit @max) o
            -- One primary-key lookup per change. A plain join's prepared (generic) plan guesses "limit @max" rows and
            -- hashes the whole table instead; "offset 0" keeps the planner from flattening the lateral lookup into one.
            left join lateral (
                select s.status, s.due_at, s.version, s.traceparent, holds_posts(c.state) as held
                from scheduled_posts s join channels c on c.id = s.channel_id
                where s.id = o.post_id offset 0) p on true
            order by o.id
            """);
        query.Parameters.AddWithValue("max", max);
        var changes = new List<OutboxChange>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var queued = !reader.IsDBNull(2) && Vocabulary.ToPostStatus(reader.GetString(2)) == PostStatus.Queued && !reader.GetBoolean(6);
            changes.Add(new OutboxChange(
                reader.GetInt64(0),
                reader.GetGuid(1),
                queued ? reader.GetDateTime(3) : null,
                reader.IsDBNull(4) ? 0 : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return changes;
    }

    /// <summary>Removes relayed changes; returns how many were still there.</summary>
    public async Task<int> AcknowledgeAsync(long[] changeIds, CancellationToken cancellationToken)
    {
        await using var delete = database.Owner.CreateCommand("delete from schedule_outbox where id = any(@ids)");
        delete.Parameters.AddWithValue("ids", changeIds);
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Queued posts whose channel does not hold them, in id order, after <paramref name="after"/> when given.</summary>
    public async Task<List<DuePost>> ListQueuedAsync(Guid? after, int limit, CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select p.id, p.due_at, p.version from scheduled_posts p
            where p.status = 'queued' and (@after::uuid is null or p.id > @after)
                and not exists (select 1 from channels c where c.id = p.channel_id and holds_posts(c.state))
            order by p.id limit @limit
            """);
        query.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Uuid) { Value = (object?)after ?? DBNull.Value });
        query.Parameters.AddWithValue("limit", limit);
        var posts = new List<DuePost>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            posts.Add(new DuePost(reader.GetGuid(0), reader.GetDateTime(1), reader.GetInt32(2)));
        }
        return posts;
    }

    /// <summary>How many changes wait for the relay, and how long the oldest has waited (untraced: a health probe).</summary>
    public async Task<(long Pending, TimeSpan OldestAge)> BacklogAsync(CancellationToken cancellationToken)
    {
        using var quiet = SocialSyncTelemetry.Quiet();
        await using var query = database.Owner.CreateCommand(
            "select count(*), coalesce(extract(epoch from (now() - min(created_at))), 0)::float8 from schedule_outbox");
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), TimeSpan.FromSeconds(reader.GetDouble(1)));
    }
}
