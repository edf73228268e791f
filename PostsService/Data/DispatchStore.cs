using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>A queued post as the scheduler's index holds it.</summary>
public sealed record QueuedPostRow(Guid PostId, DateTimeOffset DueAt, long Version);

/// <summary>A claimed post with what its publisher needs to start the attempt.</summary>
public sealed record ClaimedPostRow(Guid PostId, int Attempt, string Platform, Guid ChannelId, Content Content,
    string? Traceparent, bool NeedsReconciliation, string? PlatformStateJson, long Version, long LateMs);

/// <summary>What one claim statement did: the posts it claimed, and those it found beyond the misfire window.</summary>
public sealed record ClaimRows(IReadOnlyList<ClaimedPostRow> Claimed, IReadOnlyList<(Guid PostId, long Version)> Missed);

/// <summary>Where a named post the claim did not take stands now: not queued (or gone, version 0), or due later.</summary>
public sealed record UnclaimedPostRow(Guid PostId, long Version, bool Queued, DateTimeOffset DueAt);

/// <summary>
/// How a claim is made: the time, the lease it grants, and the misfire window (posts overdue beyond it are marked
/// missed, never published; the text names the window in the post's error message).
/// </summary>
public sealed record ClaimTerms(DateTimeOffset Now, TimeSpan Lease, TimeSpan MisfireWindow, string MisfireWindowText);

/// <summary>
/// The scheduler's statements on scheduled_posts: listing queued posts for the index, claiming due ones (queued to
/// publishing, with a lease and the next attempt number for fencing), and recovering claims whose lease expired.
/// All run on the owner pool, not under row-level security: they serve every user's posts.
/// </summary>
public sealed class DispatchStore(PostsDatabase database)
{
    private const string ListQueued = """
        select id, due_at, version from scheduled_posts
        where status = 'queued' and ($1::uuid is null or id > $1)
        order by id limit $2
        """;

    // The claim's moves, after the rows it may move ("targets", locked): beyond the misfire window → missed, else →
    // publishing with the next attempt and a lease.
    private const string ClaimTargets = """
        ,
        missed as (
            update scheduled_posts p
            set status = 'missed', lease_expires_at = null,
                dispatch_late_ms = (extract(epoch from ($3 - p.due_at)) * 1000)::bigint,
                error_message = 'Missed: found ' || justify_hours(date_trunc('second', $3 - p.due_at))::text
                    || ' overdue, beyond the misfire window of ' || $5 || '; not published.'
            from targets t where p.id = t.id and p.due_at < $4
            returning p.id, p.version),
        claimed as (
            update scheduled_posts p
            set status = 'publishing', attempt = p.attempt + 1, lease_expires_at = $3 + $6,
                dispatch_late_ms = (extract(epoch from ($3 - p.due_at)) * 1000)::bigint
            from targets t where p.id = t.id and p.due_at >= $4
            returning p.id, p.attempt, p.platform, p.channel_id, p.content_json::text, p.traceparent,
                p.needs_reconciliation, p.platform_state::text, p.version, p.dispatch_late_ms)
        select id, attempt, platform, channel_id, content_json, traceparent, needs_reconciliation, platform_state, version, dispatch_late_ms, false
        from claimed
        union all
        select id, 0, null, null, null, null, false, null, version, 0, true from missed
        """;

    // A named post is claimed only once it is due by this clock (never early); FOR UPDATE re-checks that against the
    // row's latest version, so a concurrent move or cancel either commits first (and wins) or waits for the claim.
    private const string ClaimNamed = """
        with targets as (
            select id from scheduled_posts
            where id = any($1) and status = 'queued' and due_at <= $2
            for update skip locked)
        """ + ClaimTargets;

    // The safety net: overdue posts nobody holds, oldest first.
    private const string ClaimOverdue = """
        with targets as (
            select id from scheduled_posts
            where status = 'queued' and due_at <= $2
            order by due_at limit $7
            for update skip locked)
        """ + ClaimTargets;

    private const string ReadUnclaimed = "select id, status = 'queued', due_at, version from scheduled_posts where id = any($1)";

    private const string RecoverLeases = """
        with expired as (
            select id from scheduled_posts
            where status = 'publishing' and lease_expires_at < $1
            order by lease_expires_at limit $2 for update skip locked),
        requeued as (
            update scheduled_posts p
            set status = 'queued', lease_expires_at = null,
                -- A run of this attempt means its call may have reached the platform.
                needs_reconciliation = p.needs_reconciliation
                    or exists (select 1 from post_runs r where r.scheduled_post_id = p.id and r.attempt = p.attempt)
            from expired e where p.id = e.id
            returning p.id, p.needs_reconciliation),
        closed_runs as (
            update post_runs r
            set status = case when q.needs_reconciliation then 'unconfirmed' else 'failed' end,
                finished_at = $1, error = 'The lease expired before the outcome was reported.'
            from requeued q where r.scheduled_post_id = q.id and r.status = 'running')
        select count(*) filter (where not needs_reconciliation), count(*) filter (where needs_reconciliation) from requeued
        """;

    /// <summary>A page of queued posts in id order, after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<QueuedPostRow>> ListQueuedAsync(Guid? after, int limit, CancellationToken cancellationToken)
    {
        await using var command = database.Owner.CreateCommand(ListQueued);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = (object?)after ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        var rows = new List<QueuedPostRow>(limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new QueuedPostRow(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetInt32(2)));
        }
        return rows;
    }

    /// <summary>
    /// Claims the named posts that are due, and reads where the others stand, in one transaction: an unclaimed one
    /// is either no longer queued, due later (moved), or locked by a concurrent claim or change (absent from both).
    /// </summary>
    public async Task<(ClaimRows Claim, IReadOnlyList<UnclaimedPostRow> Unclaimed)> ClaimNamedAsync(
        Guid[] ids, ClaimTerms terms, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claim = await ClaimAsync(connection, transaction, ClaimNamed, terms, terms.Now, ids, max: 0, cancellationToken);

        var handled = claim.Claimed.Select(c => c.PostId).Concat(claim.Missed.Select(m => m.PostId)).ToHashSet();
        var rest = ids.Where(id => !handled.Contains(id)).Distinct().ToArray();
        var unclaimed = new List<UnclaimedPostRow>(rest.Length);
        if (rest.Length > 0)
        {
            await using var read = new NpgsqlCommand(ReadUnclaimed, connection, transaction) { Parameters = { new NpgsqlParameter { Value = rest } } };
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                unclaimed.Add(new UnclaimedPostRow(reader.GetGuid(0), reader.GetInt32(3), reader.GetBoolean(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }
        var found = unclaimed.Select(u => u.PostId).ToHashSet();
        unclaimed.AddRange(rest.Where(id => !found.Contains(id)).Select(gone => new UnclaimedPostRow(gone, 0, false, default)));
        await transaction.CommitAsync(cancellationToken);
        return (claim, unclaimed);
    }

    /// <summary>The safety net's claim: up to <paramref name="max"/> posts due by <paramref name="dueBy"/>, oldest first.</summary>
    public async Task<ClaimRows> ClaimOverdueAsync(int max, DateTimeOffset dueBy, ClaimTerms terms, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claim = await ClaimAsync(connection, transaction, ClaimOverdue, terms, dueBy, [], max, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return claim;
    }

    private static async Task<ClaimRows> ClaimAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        ClaimTerms terms, DateTimeOffset dueBy, Guid[] ids, int max, CancellationToken cancellationToken)
    {
        await using var claim = new NpgsqlCommand(sql, connection, transaction)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = ids },
                new NpgsqlParameter { Value = dueBy },
                new NpgsqlParameter { Value = terms.Now },
                new NpgsqlParameter { Value = terms.Now - terms.MisfireWindow },
                new NpgsqlParameter { Value = terms.MisfireWindowText },
                new NpgsqlParameter { Value = terms.Lease },
                new NpgsqlParameter { Value = max },
            },
        };
        var claimed = new List<ClaimedPostRow>();
        var missed = new List<(Guid, long)>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.GetBoolean(10))
            {
                missed.Add((reader.GetGuid(0), reader.GetInt32(8)));
                continue;
            }
            claimed.Add(new ClaimedPostRow(
                reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetGuid(3), ContentJson.Deserialize(reader.GetString(4)),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetInt32(8), reader.GetInt64(9)));
        }
        return new ClaimRows(claimed, missed);
    }

    /// <summary>
    /// Returns up to <paramref name="max"/> claims whose lease expired to queued: marked for reconciliation when a run
    /// of the attempt was opened (its call may have reached the platform), and closes those runs.
    /// </summary>
    public async Task<(int Requeued, int SentToReconciliation)> RecoverExpiredLeasesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var recover = database.Owner.CreateCommand(RecoverLeases);
        recover.Parameters.Add(new NpgsqlParameter { Value = now });
        recover.Parameters.Add(new NpgsqlParameter { Value = max });
        await using var reader = await recover.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }
}
