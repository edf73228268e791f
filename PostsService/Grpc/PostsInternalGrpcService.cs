using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Security;
using SocialSync.ServiceDefaults.Telemetry;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The RPCs SchedulerService and PublisherService use. They run on the owner pool (not under row-level security)
/// and every state change is guarded in SQL: a claim only moves queued posts, and every later change must name the
/// claim's attempt number, so a fenced-out worker can never overwrite a newer attempt.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed partial class PostsInternalGrpcService(
    PostsDatabase database,
    ScheduleChangeNotifier notifier,
    AccessTokenProtector protector,
    RetryPolicy retryPolicy,
    PostsMetrics metrics,
    TimeProvider time,
    ILogger<PostsInternalGrpcService> log) : PostsInternalService.PostsInternalServiceBase
{
    private const int MaxBatch = 10_000;

    /// <summary>A claim this much after its due time is logged (the post is still published, up to the misfire window).</summary>
    private static readonly TimeSpan LateWarning = TimeSpan.FromMinutes(1);

    public override async Task<PullScheduleChangesResponse> PullScheduleChanges(PullScheduleChangesRequest request, ServerCallContext context)
    {
        var max = Math.Clamp(request.MaxChanges == 0 ? 1000 : request.MaxChanges, 1, 10_000);
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, 30_000));
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            var response = await ReadOutboxAsync(max, context.CancellationToken);
            var remaining = deadline - time.GetUtcNow();
            if (response.Changes.Count > 0 || remaining <= TimeSpan.Zero)
            {
                return response;
            }
            await notifier.WaitAsync(remaining < ScheduleChangeNotifier.RecheckInterval ? remaining : ScheduleChangeNotifier.RecheckInterval, time, context.CancellationToken);
        }
    }

    private async Task<PullScheduleChangesResponse> ReadOutboxAsync(int max, CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select o.id, o.post_id, p.status, p.due_at, p.version, p.traceparent
            from (select id, post_id from schedule_outbox order by id limit @max) o
            -- One primary-key lookup per change. A plain join's prepared (generic) plan guesses "limit @max" rows and
            -- hashes the whole table instead; "offset 0" keeps the planner from flattening the lateral lookup into one.
            left join lateral (select status, due_at, version, traceparent from scheduled_posts where id = o.post_id offset 0) p on true
            order by o.id
            """);
        query.Parameters.AddWithValue("max", max);
        var response = new PullScheduleChangesResponse();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var queued = !reader.IsDBNull(2) && reader.GetString(2) == "queued";
            response.Changes.Add(new ScheduleChange
            {
                ChangeId = reader.GetInt64(0),
                PostId = reader.GetGuid(1).ToString(),
                Kind = queued ? ScheduleChangeKind.Upsert : ScheduleChangeKind.Remove,
                PublishAt = queued ? Timestamp.FromDateTime(reader.GetDateTime(3)) : null,
                Version = reader.IsDBNull(4) ? 0 : reader.GetInt32(4),
                Traceparent = reader.IsDBNull(5) ? "" : reader.GetString(5),
            });
        }
        return response;
    }

    public override async Task<AckScheduleChangesResponse> AckScheduleChanges(AckScheduleChangesRequest request, ServerCallContext context)
    {
        await using var delete = database.Owner.CreateCommand("delete from schedule_outbox where id = any(@ids)");
        delete.Parameters.AddWithValue("ids", request.ChangeIds.ToArray());
        var deleted = await delete.ExecuteNonQueryAsync(context.CancellationToken);
        return new AckScheduleChangesResponse { Acknowledged = deleted };
    }

    public override async Task<ListQueuedPostsResponse> ListQueuedPosts(ListQueuedPostsRequest request, ServerCallContext context)
    {
        var pageSize = Math.Clamp(request.PageSize == 0 ? 5000 : request.PageSize, 1, 50_000);
        Guid? after = null;
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            after = Guid.TryParse(request.PageToken, out var parsed) ? parsed : throw FieldViolations.Single("page_token", "is not a token this API issued");
        }
        await using var query = database.Owner.CreateCommand("""
            select id, due_at, version from scheduled_posts
            where status = 'queued' and (@after::uuid is null or id > @after)
            order by id limit @limit
            """);
        query.Parameters.Add(new NpgsqlParameter("after", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)after ?? DBNull.Value });
        query.Parameters.AddWithValue("limit", pageSize);
        var response = new ListQueuedPostsResponse();
        await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
        while (await reader.ReadAsync(context.CancellationToken))
        {
            response.Posts.Add(new QueuedPost
            {
                PostId = reader.GetGuid(0).ToString(),
                PublishAt = Timestamp.FromDateTime(reader.GetDateTime(1)),
                Version = reader.GetInt32(2),
            });
        }
        if (response.Posts.Count == pageSize)
        {
            response.NextPageToken = response.Posts[^1].PostId;
        }
        return response;
    }

    public override async Task<ClaimDuePostsResponse> ClaimDuePosts(ClaimDuePostsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var ids = new List<Guid>(request.PostIds.Count);
        for (var i = 0; i < request.PostIds.Count; i++)
        {
            if (RequestFields.ParseId(request.PostIds[i], $"post_ids[{i}]", violations) is { } id)
            {
                ids.Add(id);
            }
        }
        violations.ThrowIfAny();

        var now = time.GetUtcNow();
        var lease = request.LeaseSeconds > 0 ? TimeSpan.FromSeconds(request.LeaseSeconds) : retryPolicy.Options.Lease;
        var window = retryPolicy.Options.MisfireWindow;
        var response = new ClaimDuePostsResponse();

        await using var connection = await database.Owner.OpenConnectionAsync(context.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(context.CancellationToken);

        // Which rows this call may move: the named ones, or (safety net) overdue ones nobody holds. A named post is
        // claimed only once it is due by this clock (never early); FOR UPDATE re-checks that against the row's
        // latest version, so a concurrent move or cancel either commits first (and wins) or waits for the claim.
        var targets = ids.Count > 0
            ? "select id from scheduled_posts where id = any(@ids) and status = 'queued' and due_at <= @due_by for update skip locked"
            : "select id from scheduled_posts where status = 'queued' and due_at <= @due_by order by due_at limit @max for update skip locked";
        var dueBy = ids.Count > 0 ? now : now - TimeSpan.FromMilliseconds(Math.Max(0, request.MinOverdueMs));

        long latestMs = 0;
        await using (var claim = new NpgsqlCommand($"""
            with targets as ({targets}),
            missed as (
                update scheduled_posts p
                set status = 'missed', lease_expires_at = null,
                    dispatch_late_ms = (extract(epoch from (@now - p.due_at)) * 1000)::bigint,
                    error_message = 'Missed: found ' || justify_hours(date_trunc('second', @now - p.due_at))::text
                        || ' overdue, beyond the misfire window of ' || @window_text || '; not published.'
                from targets t where p.id = t.id and p.due_at < @oldest
                returning p.id, p.version),
            claimed as (
                update scheduled_posts p
                set status = 'publishing', attempt = p.attempt + 1, lease_expires_at = @now + @lease,
                    dispatch_late_ms = (extract(epoch from (@now - p.due_at)) * 1000)::bigint
                from targets t where p.id = t.id and p.due_at >= @oldest
                returning p.id, p.attempt, p.publish_at, p.platform, p.channel_id, p.traceparent, p.version, p.dispatch_late_ms)
            select id, attempt, publish_at, platform, channel_id, traceparent, version, dispatch_late_ms, false from claimed
            union all
            select id, 0, null, null, null, null, version, 0, true from missed
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("ids", ids.ToArray());
            claim.Parameters.AddWithValue("due_by", dueBy);
            claim.Parameters.AddWithValue("max", Math.Clamp(request.MaxPosts == 0 ? 500 : request.MaxPosts, 1, 10_000));
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("oldest", now - window);
            claim.Parameters.AddWithValue("window_text", Describe(window));
            claim.Parameters.AddWithValue("lease", lease);
            await using var reader = await claim.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                var id = reader.GetGuid(0).ToString();
                var version = reader.GetInt32(6);
                response.Settled.Add(new SettledPost { PostId = id, Version = version });
                if (reader.GetBoolean(8))
                {
                    response.Missed.Add(id);
                    continue;
                }
                var lateMs = reader.GetInt64(7);
                latestMs = Math.Max(latestMs, lateMs);
                response.Claimed.Add(new ClaimedPost
                {
                    PostId = id,
                    Attempt = reader.GetInt32(1),
                    PublishAt = Timestamp.FromDateTime(reader.GetDateTime(2)),
                    Platform = Vocabulary.ToPlatform(reader.GetString(3)),
                    ChannelId = reader.GetGuid(4).ToString(),
                    Traceparent = reader.IsDBNull(5) ? "" : reader.GetString(5),
                    Version = version,
                    LateMs = lateMs,
                });
            }
        }

        if (ids.Count > 0)
        {
            var handled = response.Settled.Select(c => Guid.Parse(c.PostId)).ToHashSet();
            var rest = ids.Where(id => !handled.Contains(id)).Distinct().ToArray();
            if (rest.Length > 0)
            {
                await using var remaining = new NpgsqlCommand(
                    "select id, status, due_at, version from scheduled_posts where id = any(@ids)", connection, transaction);
                remaining.Parameters.AddWithValue("ids", rest);
                var found = new HashSet<Guid>();
                await using var reader = await remaining.ExecuteReaderAsync(context.CancellationToken);
                while (await reader.ReadAsync(context.CancellationToken))
                {
                    var id = reader.GetGuid(0);
                    found.Add(id);
                    var version = reader.GetInt32(3);
                    // A queued post not claimed is either due later (moved) or locked by a concurrent claim or
                    // change; the locked ones stay in the index and are asked for again.
                    if (reader.GetString(1) != "queued")
                    {
                        response.NotQueued.Add(id.ToString());
                        response.Settled.Add(new SettledPost { PostId = id.ToString(), Version = version });
                    }
                    else if (reader.GetFieldValue<DateTimeOffset>(2) > dueBy)
                    {
                        response.NotDue.Add(new QueuedPost { PostId = id.ToString(), PublishAt = Timestamp.FromDateTime(reader.GetDateTime(2)), Version = version });
                    }
                }
                foreach (var gone in rest.Where(id => !found.Contains(id)))
                {
                    response.NotQueued.Add(gone.ToString());
                    response.Settled.Add(new SettledPost { PostId = gone.ToString(), Version = 0 });
                }
            }
        }

        await transaction.CommitAsync(context.CancellationToken);
        if (response.Missed.Count > 0)
        {
            LogMissed(response.Missed.Count, Describe(window));
            metrics.Missed(response.Missed.Count);
        }
        if (latestMs > LateWarning.TotalMilliseconds)
        {
            LogLateClaim(response.Claimed.Count, latestMs, Describe(window));
        }
        return response;
    }

    /// <summary>A span as "1d 02h 03m" (or "45s"), for messages people read.</summary>
    internal static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return $"{(int)span.TotalSeconds}s";
        }
        var text = span.Days > 0 ? $"{span.Days}d {span.Hours:D2}h" : $"{span.Hours}h";
        return span.Minutes > 0 || span.Seconds > 0 ? $"{text} {span.Minutes:D2}m" : text;
    }

    public override async Task<RecoverExpiredLeasesResponse> RecoverExpiredLeases(RecoverExpiredLeasesRequest request, ServerCallContext context)
    {
        var now = time.GetUtcNow();
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
        recover.Parameters.AddWithValue("max", Math.Clamp(request.MaxPosts == 0 ? 1000 : request.MaxPosts, 1, 10_000));
        await using var reader = await recover.ExecuteReaderAsync(context.CancellationToken);
        await reader.ReadAsync(context.CancellationToken);
        var response = new RecoverExpiredLeasesResponse
        {
            Requeued = (int)reader.GetInt64(0),
            SentToReconciliation = (int)reader.GetInt64(1),
        };
        if (response.Requeued + response.SentToReconciliation > 0)
        {
            LogLeasesRecovered(response.Requeued, response.SentToReconciliation);
            metrics.LeasesExpired(response.Requeued, response.SentToReconciliation);
        }
        return response;
    }

    public override async Task<StartRunResponse> StartRun(StartRunRequest request, ServerCallContext context)
    {
        var postId = RequestFields.RequireId(request.PostId, "post_id");
        var started = await StartRunsAsync([(postId, request.Attempt)], context.CancellationToken);
        return started.TryGetValue(postId, out var run) && run.Attempt == request.Attempt
            ? run.Response
            : throw new FailedPreconditionException($"Attempt {request.Attempt} of post {request.PostId} is not the current claim.");
    }

    public override async Task<StartRunsResponse> StartRuns(StartRunsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var wanted = new List<(Guid PostId, int Attempt)>(request.Runs.Count);
        for (var i = 0; i < request.Runs.Count; i++)
        {
            if (RequestFields.ParseId(request.Runs[i].PostId, $"runs[{i}].post_id", violations) is { } id)
            {
                wanted.Add((id, request.Runs[i].Attempt));
            }
        }
        if (request.Runs.Count > MaxBatch)
        {
            violations.Add("runs", $"must hold at most {MaxBatch} items");
        }
        violations.ThrowIfAny();

        var started = await StartRunsAsync(wanted, context.CancellationToken);
        var response = new StartRunsResponse();
        foreach (var (postId, attempt) in wanted)
        {
            var result = new StartRunResult { PostId = postId.ToString(), Attempt = attempt };
            if (started.TryGetValue(postId, out var run) && run.Attempt == attempt)
            {
                result.Started = true;
                result.Run = run.Response;
            }
            response.Results.Add(result);
        }
        return response;
    }

    /// <summary>A call that starts with less than this share of Retry:Lease left on its claim renews the lease.</summary>
    private const double LeaseRenewedBelow = 0.9;

    /// <summary>
    /// Opens each attempt's run (the record that the platform may be called: a lease that expires after it sends the
    /// post to reconciliation) and renews a lease running short, all in one statement; attempts that are no longer
    /// the current claim are left out of the answer.
    /// </summary>
    private async Task<Dictionary<Guid, (int Attempt, StartRunResponse Response)>> StartRunsAsync(
        IReadOnlyCollection<(Guid PostId, int Attempt)> wanted, CancellationToken cancellationToken)
    {
        var started = new Dictionary<Guid, (int, StartRunResponse)>(wanted.Count);
        var distinct = wanted.DistinctBy(w => w.PostId).OrderBy(w => w.PostId).ToArray();
        if (distinct.Length == 0)
        {
            return started;
        }
        var now = time.GetUtcNow();
        await using var command = database.Owner.CreateCommand($"""
            with started as (
                -- Locked, not updated: a lease recovery (which skips locked rows) cannot requeue the claim until the run
                -- is committed, and from then on the run itself says the platform may have been called.
                select {PostRows.Columns}, user_id, needs_reconciliation, platform_state::text as platform_state_json,
                    attempt, dispatch_late_ms
                from scheduled_posts p
                join unnest(@ids, @attempts) as r(run_post_id, run_attempt) on p.id = r.run_post_id and p.attempt = r.run_attempt
                -- "p.id = any" lets even a generic plan look the rows up by key instead of scanning the table.
                where p.id = any(@ids) and p.status = 'publishing'
                for no key update of p),
            extended as (
                -- The claim's lease is renewed only when the call starts late in it: each update writes every index.
                update scheduled_posts p set lease_expires_at = @now + @lease
                from started s
                where p.id = s.id and p.lease_expires_at < @now + @lease * @renew_below),
            runs as (
                insert into post_runs (scheduled_post_id, user_id, attempt, started_at, dispatch_late_ms)
                select s.id, s.user_id, s.attempt, @now, s.dispatch_late_ms
                from started s join channels c on c.id = s.channel_id
                where c.state = 'active'
                returning id as run_id, scheduled_post_id)
            select s.*, c.platform, c.account_id, c.access_token_encrypted, c.settings::text, c.state, runs.run_id
            from started s
            join channels c on c.id = s.channel_id
            left join runs on runs.scheduled_post_id = s.id
            """);
        command.Parameters.AddWithValue("ids", distinct.Select(w => w.PostId).ToArray());
        command.Parameters.AddWithValue("attempts", distinct.Select(w => w.Attempt).ToArray());
        command.Parameters.AddWithValue("now", now);
        command.Parameters.AddWithValue("lease", retryPolicy.Options.Lease);
        command.Parameters.AddWithValue("renew_below", LeaseRenewedBelow);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        const int extra = PostRows.ColumnCount;
        while (await reader.ReadAsync(cancellationToken))
        {
            var post = PostRows.Read(reader);
            var response = new StartRunResponse
            {
                Post = post,
                NeedsReconciliation = reader.GetBoolean(extra + 1),
                PlatformStateJson = reader.IsDBNull(extra + 2) ? "" : reader.GetString(extra + 2),
                Channel = new ChannelAccess
                {
                    ChannelId = post.ChannelId,
                    Platform = Vocabulary.ToPlatform(reader.GetString(extra + 5)),
                    AccountId = reader.GetString(extra + 6),
                    AccessToken = protector.Unprotect((byte[])reader[extra + 7]),
                    Settings = ChannelRows.ReadSettings(reader.GetString(extra + 8)),
                    State = Vocabulary.ToChannelState(reader.GetString(extra + 9)),
                },
                RunId = reader.IsDBNull(extra + 10) ? "" : reader.GetGuid(extra + 10).ToString(),
            };
            started[Guid.Parse(post.Id)] = (reader.GetInt32(extra + 3), response);
        }
        return started;
    }

    public override async Task<ReportOutcomesResponse> ReportOutcomes(ReportOutcomesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var ids = new Guid[request.Outcomes.Count];
        for (var i = 0; i < request.Outcomes.Count; i++)
        {
            ids[i] = RequestFields.ParseId(request.Outcomes[i].PostId, $"outcomes[{i}].post_id", violations) ?? Guid.Empty;
            if (request.Outcomes[i].Kind == OutcomeKind.Unspecified || !System.Enum.IsDefined(request.Outcomes[i].Kind))
            {
                violations.Add($"outcomes[{i}].kind", "must be a known outcome kind");
            }
        }
        if (request.Outcomes.Count > MaxBatch)
        {
            violations.Add("outcomes", $"must hold at most {MaxBatch} items");
        }
        violations.ThrowIfAny();

        var response = new ReportOutcomesResponse();
        response.Results.AddRange(await ApplyOutcomesAsync(request.Outcomes, ids, context.CancellationToken));
        return response;
    }

    private sealed record AppliedOutcome(Guid PostId, PublishOutcome Outcome, OutcomeDecision Decision, string Platform,
        DateTimeOffset PublishAt, Guid ChannelId, DateTimeOffset FinishedAt, bool Reconciled, bool Recurring, string? Traceparent);

    /// <summary>
    /// Applies a batch of outcomes in one transaction with set-based statements: lock the current claims (in id
    /// order, so concurrent batches cannot deadlock), decide each outcome, then update posts, runs and channels once
    /// each. An outcome whose attempt is not the current claim is refused without touching anything.
    /// </summary>
    private async Task<IReadOnlyList<OutcomeResult>> ApplyOutcomesAsync(IReadOnlyList<PublishOutcome> outcomes, Guid[] ids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var results = new OutcomeResult[outcomes.Count];
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var claims = new Dictionary<Guid, (int Attempt, string Platform, int RetryCount, DateTimeOffset PublishAt, Guid ChannelId, bool Reconciled, bool Recurring)>();
        await using (var current = new NpgsqlCommand("""
            select id, attempt, platform, retry_count, publish_at, channel_id, needs_reconciliation, rrule is not null
            from scheduled_posts
            where id = any(@ids) and status = 'publishing'
            order by id
            for update
            """, connection, transaction))
        {
            current.Parameters.AddWithValue("ids", ids.Distinct().ToArray());
            await using var reader = await current.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claims[reader.GetGuid(0)] = (reader.GetInt32(1), reader.GetString(2), reader.GetInt32(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.GetGuid(5), reader.GetBoolean(6), reader.GetBoolean(7));
            }
        }

        var applied = new List<AppliedOutcome>(outcomes.Count);
        var used = new HashSet<Guid>();
        for (var i = 0; i < outcomes.Count; i++)
        {
            var outcome = outcomes[i];
            // The span covers the decision; the batch's statements follow for all outcomes at once.
            using var span = PostTracing.StartRecordOutcome(outcome);
            if (!claims.TryGetValue(ids[i], out var claim) || claim.Attempt != outcome.Attempt || !used.Add(ids[i]))
            {
                LogStaleReport(outcome.PostId, outcome.Attempt);
                span.SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Status, "stale");
                results[i] = new OutcomeResult { PostId = outcome.PostId, Accepted = false };
                continue;
            }
            var decision = OutcomeRules.Decide(outcome, claim.RetryCount, now, retryPolicy, Random.Shared.NextDouble())!;
            var traceparent = decision is { Status: "queued", DueAt: { } nextDue }
                ? PostTracing.StartRetryTrace(span, outcome.PostId, outcome.Attempt, decision.ErrorClass ?? "held", nextDue)
                : null;
            span.SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Platform, claim.Platform)
                .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.ChannelId, claim.ChannelId.ToString())
                .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Status, decision.Status)
                .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.ErrorClass, decision.ErrorClass);
            applied.Add(new AppliedOutcome(ids[i], outcome, decision, claim.Platform, claim.PublishAt, claim.ChannelId,
                outcome.FinishedAt?.ToDateTimeOffset() ?? now, claim.Reconciled, claim.Recurring, traceparent));
            results[i] = new OutcomeResult
            {
                PostId = outcome.PostId,
                Accepted = true,
                Status = Vocabulary.ToPostStatus(decision.Status),
                NextAttemptAt = decision is { Status: "queued", DueAt: { } next } ? Timestamp.FromDateTimeOffset(next) : null,
            };
        }

        if (applied.Count > 0)
        {
            await UpdatePostsAsync(connection, transaction, applied, cancellationToken);
            await UpdateRunsAsync(connection, transaction, applied, cancellationToken);
            var reconnect = applied.Where(a => a.Outcome.Kind == OutcomeKind.AuthFailure).Select(a => a.ChannelId).Distinct().ToArray();
            if (reconnect.Length > 0)
            {
                await using var channel = new NpgsqlCommand(
                    "update channels set state = 'needs_reconnect', state_reason = @reason where id = any(@ids) and state = 'active'",
                    connection, transaction);
                channel.Parameters.AddWithValue("reason", "The platform rejected the access token; reconnect the account and rotate its token.");
                channel.Parameters.AddWithValue("ids", reconnect);
                await channel.ExecuteNonQueryAsync(cancellationToken);
            }
            // A recurring post's next occurrence is created in the transaction that finishes this one.
            foreach (var a in applied.Where(a => a.Recurring))
            {
                await Recurrence.ScheduleNextAsync(connection, transaction, a.PostId, a.Decision.Status, now, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);

        foreach (var a in applied)
        {
            metrics.OutcomeApplied(a.Platform, a.Outcome.Kind, a.Decision.Status, a.Decision.ErrorClass, a.Reconciled);
            using (log.BeginPostScope(a.Outcome.PostId, a.Outcome.Attempt))
            {
                LogOutcomeApplied(a.Outcome.PostId, a.Outcome.Attempt, PostsMetrics.OutcomeName(a.Outcome.Kind), a.Decision.Status);
            }
            if (a.Decision.Status == "published")
            {
                metrics.Published(a.Platform, a.FinishedAt - a.PublishAt);
            }
        }
        return results;
    }

    private static async Task UpdatePostsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<AppliedOutcome> applied, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand("""
            update scheduled_posts p set
                status = u.status,
                due_at = coalesce(u.due_at, p.due_at),
                retry_count = u.retry_count,
                platform_post_id = coalesce(u.platform_post_id, p.platform_post_id),
                permalink = coalesce(u.permalink, p.permalink),
                published_at = case when u.status = 'published' then u.finished_at else p.published_at end,
                error_message = u.error,
                platform_state = coalesce(u.platform_state::jsonb, p.platform_state),
                lease_expires_at = null,
                needs_reconciliation = case when u.status = 'published' then false else p.needs_reconciliation end,
                traceparent = coalesce(u.traceparent, p.traceparent)
            from unnest(@ids, @attempts, @statuses, @due_ats, @retry_counts, @platform_post_ids, @permalinks, @finished_ats, @errors, @platform_states, @traceparents)
                as u(post_id, attempt, status, due_at, retry_count, platform_post_id, permalink, finished_at, error, platform_state, traceparent)
            where p.id = any(@ids) and p.id = u.post_id and p.attempt = u.attempt
            """, connection, transaction);
        update.Parameters.AddWithValue("ids", applied.Select(a => a.PostId).ToArray());
        update.Parameters.AddWithValue("attempts", applied.Select(a => a.Outcome.Attempt).ToArray());
        update.Parameters.AddWithValue("statuses", applied.Select(a => a.Decision.Status).ToArray());
        update.Parameters.Add(TimestampArray("due_ats", applied.Select(a => a.Decision.DueAt)));
        update.Parameters.AddWithValue("retry_counts", applied.Select(a => a.Decision.RetryCount).ToArray());
        update.Parameters.Add(TextArray("platform_post_ids", applied.Select(a => NullIfEmpty(a.Outcome.PlatformPostId))));
        update.Parameters.Add(TextArray("permalinks", applied.Select(a => NullIfEmpty(a.Outcome.Permalink))));
        update.Parameters.Add(TimestampArray("finished_ats", applied.Select(a => (DateTimeOffset?)a.FinishedAt)));
        update.Parameters.Add(TextArray("errors", applied.Select(a => a.Decision.ErrorMessage)));
        update.Parameters.Add(TextArray("platform_states", applied.Select(a => NullIfEmpty(a.Outcome.PlatformStateJson))));
        update.Parameters.Add(TextArray("traceparents", applied.Select(a => a.Traceparent)));
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task UpdateRunsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<AppliedOutcome> applied, CancellationToken cancellationToken)
    {
        var runs = applied
            .Select(a => (Applied: a, RunId: Guid.TryParse(a.Outcome.RunId, out var runId) ? runId : (Guid?)null))
            .Where(r => r.Applied.Decision.RunStatus is not null && r.RunId is not null)
            .ToList();
        if (runs.Count == 0)
        {
            return;
        }
        await using var update = new NpgsqlCommand("""
            update post_runs r set status = u.status, finished_at = u.finished_at, error = u.error,
                error_code = u.error_code, error_class = u.error_class
            from unnest(@run_ids, @post_ids, @attempts, @statuses, @finished_ats, @errors, @codes, @classes)
                as u(run_id, post_id, attempt, status, finished_at, error, error_code, error_class)
            where r.id = any(@run_ids) and r.id = u.run_id and r.scheduled_post_id = u.post_id and r.attempt = u.attempt
            """, connection, transaction);
        update.Parameters.AddWithValue("run_ids", runs.Select(r => r.RunId!.Value).ToArray());
        update.Parameters.AddWithValue("post_ids", runs.Select(r => r.Applied.PostId).ToArray());
        update.Parameters.AddWithValue("attempts", runs.Select(r => r.Applied.Outcome.Attempt).ToArray());
        update.Parameters.Add(TextArray("statuses", runs.Select(r => r.Applied.Decision.RunStatus)));
        update.Parameters.Add(TimestampArray("finished_ats", runs.Select(r => (DateTimeOffset?)r.Applied.FinishedAt)));
        update.Parameters.Add(TextArray("errors", runs.Select(r => NullIfEmpty(r.Applied.Outcome.Error))));
        update.Parameters.Add(new NpgsqlParameter("codes", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Integer)
        {
            Value = runs.Select(r => r.Applied.Outcome.ErrorCode == 0 ? (int?)null : r.Applied.Outcome.ErrorCode).ToArray(),
        });
        update.Parameters.Add(TextArray("classes", runs.Select(r => r.Applied.Decision.ErrorClass)));
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task<SavePlatformStateResponse> SavePlatformState(SavePlatformStateRequest request, ServerCallContext context)
    {
        var postId = RequestFields.RequireId(request.PostId, "post_id");
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(string.IsNullOrEmpty(request.PlatformStateJson) ? "{}" : request.PlatformStateJson);
        }
        catch (System.Text.Json.JsonException)
        {
            throw FieldViolations.Single("platform_state_json", "must be a JSON document");
        }
        await using var save = database.Owner.CreateCommand("""
            update scheduled_posts set platform_state = @state::jsonb
            where id = @id and attempt = @attempt and status = 'publishing'
            """);
        save.Parameters.AddWithValue("state", string.IsNullOrEmpty(request.PlatformStateJson) ? "{}" : request.PlatformStateJson);
        save.Parameters.AddWithValue("id", postId);
        save.Parameters.AddWithValue("attempt", request.Attempt);
        if (await save.ExecuteNonQueryAsync(context.CancellationToken) == 0)
        {
            throw new FailedPreconditionException($"Attempt {request.Attempt} of post {request.PostId} is not the current claim.");
        }
        return new SavePlatformStateResponse();
    }

    private static NpgsqlParameter TextArray(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = values.ToArray() };

    private static NpgsqlParameter TimestampArray(string name, IEnumerable<DateTimeOffset?> values) =>
        new(name, NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz)
        {
            Value = values.Select(v => v?.UtcDateTime).ToArray(),
        };


    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    [LoggerMessage(1, LogLevel.Information, "Ignored a stale outcome report for post {PostId} attempt {Attempt}")]
    private partial void LogStaleReport(string postId, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "Marked {Count} posts missed: overdue beyond the misfire window of {Window}")]
    private partial void LogMissed(int count, string window);

    [LoggerMessage(4, LogLevel.Warning, "Claimed {Count} posts late (up to {LateMs} ms after their due time, within the misfire window of {Window}); each records its lateness")]
    private partial void LogLateClaim(int count, long lateMs, string window);

    [LoggerMessage(80, LogLevel.Information, "Post {PostId} attempt {Attempt}: {Outcome}, now {Status}")]
    private partial void LogOutcomeApplied(string postId, int attempt, string outcome, string status);

    [LoggerMessage(3, LogLevel.Warning, "Recovered expired leases: {Requeued} requeued, {Reconcile} sent to reconciliation")]
    private partial void LogLeasesRecovered(int requeued, int reconcile);
}
