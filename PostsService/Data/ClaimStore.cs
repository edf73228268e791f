using Npgsql;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>
/// A post claimed for publishing, with what its attempt needs (its content, and what earlier attempts left for
/// reconciliation): its new attempt number fences every later write of this attempt.
/// </summary>
public sealed record Claim(Guid PostId, int Attempt, string Platform, Guid ChannelId, Content Content, string? Traceparent,
    bool NeedsReconciliation, string? PlatformStateJson, int Version, long LateMs)
{
    /// <summary>The post's own WhatsApp recipients; empty means the channel's.</summary>
    public string[] Recipients { get; init; } = [];

    /// <summary>With <see cref="NeedsReconciliation"/>: the attempt of the post's latest run, the one that may have reached the platform.</summary>
    public int? InDoubtAttempt { get; init; }
}

/// <summary>A post's id and the version of the row a claim found.</summary>
public sealed record PostVersion(Guid PostId, int Version);

/// <summary>
/// What one claim did: the posts it <see cref="Claimed"/>, those it found beyond the misfire window and marked
/// <see cref="Missed"/>; for named posts also those no longer queued (or gone: version 0), those not due yet, and
/// those whose channel holds them (<see cref="Held"/>: paused or needing a reconnect; they leave the index until the
/// channel is released).
/// </summary>
public sealed record ClaimResult(List<Claim> Claimed, List<PostVersion> Missed, List<PostVersion> NotQueued, List<DuePost> NotDue,
    List<PostVersion> Held);

/// <summary>How a claim moves posts: the lease it gives, and the misfire window beyond which a post is missed.</summary>
public sealed record ClaimTerms(DateTimeOffset Now, TimeSpan Lease, TimeSpan MisfireWindow, string MisfireWindowText);

/// <summary>
/// Claims and leases: the only way a queued post starts publishing. A claim moves queued rows to publishing with a
/// new attempt number and a lease (FOR UPDATE SKIP LOCKED, so concurrent claimers never take the same post), or to
/// missed when they are overdue beyond the misfire window; an expired lease sends its post back to queued.
/// Owner pool: no row-level security.
/// </summary>
public sealed class ClaimStore(PostsDatabase database)
{
    // A named post is claimed only once it is due by this clock (never early); FOR UPDATE re-checks that against the
    // row's latest version, so a concurrent move or cancel either commits first (and wins) or waits for the claim.
    private const string ClaimNamed = """
        with targets as (
            select p.id from scheduled_posts p
            where p.id = any(@ids) and p.status = 'queued' and p.due_at <= @due_by and
        """ + "\n" + ChannelReleases + "\n" + """
            for update of p skip locked),
        """ + "\n" + MoveTargets;

    // The safety net: overdue posts nobody holds, oldest first.
    private const string ClaimOverdue = """
        with targets as (
            select p.id from scheduled_posts p
            where p.status = 'queued' and p.due_at <= @due_by and
        """ + "\n" + ChannelReleases + "\n" + """
            order by p.due_at limit @max for update of p skip locked),
        """ + "\n" + MoveTargets;

    // A guard behind the index: a post whose channel holds it (paused, or needing a reconnect) is never claimed, even
    // if an id is offered before the relay has removed it. Pausing locks and rewrites the channel's queued posts, so
    // a claim racing it either claims first (and the publisher answers the attempt HELD) or skips them.
    private const string ChannelReleases = """
        not exists (select 1 from channels c where c.id = p.channel_id and holds_posts(c.state))
        """;

    private const string MoveTargets = """
        missed as (
            update scheduled_posts p
            set status = 'missed', lease_expires_at = null,
                dispatch_late_ms = (extract(epoch from (@now - p.due_at)) * 1000)::bigint,
                error_message = 'Missed: found ' || justify_hours(date_trunc('second', @now - p.due_at))::text
                    || ' overdue, beyond the misfire window of ' || @window_text || '; not published.'
            from targets t where p.id = t.id and p.due_at < @oldest
            returning p.id, p.version, p.rrule is not null as recurring),
        claimed as (
            update scheduled_posts p
            set status = 'publishing', attempt = p.attempt + 1, lease_expires_at = @now + @lease,
                dispatch_late_ms = (extract(epoch from (@now - p.due_at)) * 1000)::bigint
            from targets t where p.id = t.id and p.due_at >= @oldest
            returning p.id, p.attempt, p.platform, p.channel_id, p.content_json::text as content, p.traceparent,
                p.needs_reconciliation, p.platform_state::text as platform_state, p.version, p.dispatch_late_ms, p.recipients,
                case when p.needs_reconciliation then (select max(r.attempt) from post_runs r where r.scheduled_post_id = p.id) end
                    as in_doubt_attempt)
        select id, attempt, platform, channel_id, content, traceparent, needs_reconciliation, platform_state, version, dispatch_late_ms, false, false,
            recipients, in_doubt_attempt
        from claimed
        union all
        select id, 0, null, null, null, null, false, null, version, 0, true, recurring, null, null from missed
        """;

    /// <summary>
    /// Claims the named posts that are queued and due by <see cref="ClaimTerms.Now"/>; says of each other one why not
    /// (not queued, gone, or not due yet). A queued post locked by a concurrent claim or change is in no list: it
    /// stays in the index and is asked for again.
    /// </summary>
    public async Task<ClaimResult> ClaimNamedAsync(Guid[] ids, ClaimTerms terms, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand(ClaimNamed, connection, transaction);
        claim.Parameters.AddWithValue("ids", ids);
        claim.Parameters.AddWithValue("due_by", terms.Now);
        var result = await MoveAsync(claim, terms, cancellationToken);

        var handled = result.Claimed.Select(c => c.PostId).Concat(result.Missed.Select(m => m.PostId)).ToHashSet();
        var rest = ids.Where(id => !handled.Contains(id)).Distinct().ToArray();
        if (rest.Length > 0)
        {
            await ExplainUnclaimedAsync(connection, transaction, rest, terms.Now, result, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>The safety net: claims up to <paramref name="max"/> queued posts due by <paramref name="dueBy"/>, oldest first.</summary>
    public async Task<ClaimResult> ClaimOverdueAsync(DateTimeOffset dueBy, int max, ClaimTerms terms, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var claim = new NpgsqlCommand(ClaimOverdue, connection, transaction);
        claim.Parameters.AddWithValue("due_by", dueBy);
        claim.Parameters.AddWithValue("max", max);
        var result = await MoveAsync(claim, terms, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<ClaimResult> MoveAsync(NpgsqlCommand claim, ClaimTerms terms, CancellationToken cancellationToken)
    {
        claim.Parameters.AddWithValue("now", terms.Now);
        claim.Parameters.AddWithValue("oldest", terms.Now - terms.MisfireWindow);
        claim.Parameters.AddWithValue("window_text", terms.MisfireWindowText);
        claim.Parameters.AddWithValue("lease", terms.Lease);
        var result = new ClaimResult([], [], [], [], []);
        var missedOccurrences = new List<Guid>();
        await using (var reader = await claim.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var version = reader.GetInt32(8);
                if (reader.GetBoolean(10))
                {
                    result.Missed.Add(new PostVersion(id, version));
                    if (reader.GetBoolean(11))
                    {
                        missedOccurrences.Add(id);
                    }
                    continue;
                }
                result.Claimed.Add(new Claim(id, reader.GetInt32(1), reader.GetString(2), reader.GetGuid(3), ContentJson.Deserialize(reader.GetString(4)),
                    reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    version, reader.GetInt64(9))
                {
                    Recipients = reader.IsDBNull(12) ? [] : reader.GetFieldValue<string[]>(12),
                    InDoubtAttempt = reader.IsDBNull(13) ? null : reader.GetInt32(13),
                });
            }
        }
        // A missed occurrence is one finished occurrence, not the end of its series: the next one is queued in the
        // same transaction, as after a publish (the first occurrence after now; the outage's are not back-filled).
        foreach (var postId in missedOccurrences)
        {
            await SeriesStatements.ScheduleNextAsync(claim.Connection!, claim.Transaction!, postId, terms.Now, cancellationToken);
        }
        return result;
    }

    /// <summary>Sorts named posts the claim did not move into not queued (or gone), held by their channel, and not due yet.</summary>
    private static async Task ExplainUnclaimedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ids,
        DateTimeOffset dueBy, ClaimResult result, CancellationToken cancellationToken)
    {
        await using var remaining = new NpgsqlCommand(
            """
            select p.id, p.status, p.due_at, p.version, holds_posts(c.state)
            from scheduled_posts p join channels c on c.id = p.channel_id where p.id = any(@ids)
            """, connection, transaction);
        remaining.Parameters.AddWithValue("ids", ids);
        var found = new HashSet<Guid>();
        await using (var reader = await remaining.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                found.Add(id);
                var version = reader.GetInt32(3);
                // A queued post not claimed is either due later (moved) or locked by a concurrent claim or change.
                if (reader.GetString(1) != "queued")
                {
                    result.NotQueued.Add(new PostVersion(id, version));
                }
                else if (reader.GetBoolean(4))
                {
                    result.Held.Add(new PostVersion(id, version));
                }
                else if (reader.GetFieldValue<DateTimeOffset>(2) > dueBy)
                {
                    result.NotDue.Add(new DuePost(id, reader.GetDateTime(2), version));
                }
            }
        }
        result.NotQueued.AddRange(ids.Where(id => !found.Contains(id)).Select(gone => new PostVersion(gone, 0)));
    }

    /// <summary>
    /// Returns claims their scheduler never handed over to queued at once, each only while it is the post's current
    /// claim (the attempt fences it) and no run of it has started; returns how many went back. The claims are locked
    /// first and checked for runs in a second statement: its snapshot comes after the lock, so a StartRuns that held
    /// the lock has committed and its run is seen, and one that comes later finds the post queued and starts nothing.
    /// </summary>
    public async Task<int> ReleaseAsync(IReadOnlyCollection<(Guid PostId, int Attempt)> claims, CancellationToken cancellationToken)
    {
        var distinct = claims.DistinctBy(c => c.PostId).OrderBy(c => c.PostId).ToArray();
        if (distinct.Length == 0)
        {
            return 0;
        }
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockClaims = new NpgsqlCommand("""
            select p.id from scheduled_posts p
            join unnest(@ids, @attempts) as c(post_id, attempt) on p.id = c.post_id and p.attempt = c.attempt
            where p.id = any(@ids) and p.status = 'publishing'
            order by p.id
            for update of p
            """, connection, transaction))
        {
            lockClaims.Parameters.AddWithValue("ids", distinct.Select(c => c.PostId).ToArray());
            lockClaims.Parameters.AddWithValue("attempts", distinct.Select(c => c.Attempt).ToArray());
            await lockClaims.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var release = new NpgsqlCommand("""
            update scheduled_posts p set status = 'queued', lease_expires_at = null
            from unnest(@ids, @attempts) as c(post_id, attempt)
            where p.id = any(@ids) and p.id = c.post_id and p.attempt = c.attempt and p.status = 'publishing'
                and not exists (select 1 from post_runs r where r.scheduled_post_id = p.id and r.attempt = p.attempt)
            """, connection, transaction);
        release.Parameters.AddWithValue("ids", distinct.Select(c => c.PostId).ToArray());
        release.Parameters.AddWithValue("attempts", distinct.Select(c => c.Attempt).ToArray());
        var released = await release.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return released;
    }

    /// <summary>
    /// Sends up to <paramref name="max"/> posts whose lease expired before <paramref name="now"/> back to queued, and
    /// closes their open runs. A run of the expired attempt means its call may have reached the platform: such a
    /// post is marked for reconciliation, so its next attempt asks the platform before it sends again.
    /// </summary>
    public async Task<(int Requeued, int SentToReconciliation)> RecoverExpiredLeasesAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await using var recover = database.Owner.CreateCommand("""
            with expired as (
                select id from scheduled_posts
                where status = 'publishing' and lease_expires_at < @now
                order by lease_expires_at limit @max for update skip locked),
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
                    finished_at = @now, error = 'The lease expired before the outcome was reported.'
                from requeued q where r.scheduled_post_id = q.id and r.status = 'running')
            select count(*) filter (where not needs_reconciliation), count(*) filter (where needs_reconciliation) from requeued
            """);
        recover.Parameters.AddWithValue("now", now);
        recover.Parameters.AddWithValue("max", max);
        await using var reader = await recover.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1));
    }
}
