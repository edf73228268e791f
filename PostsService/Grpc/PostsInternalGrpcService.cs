using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
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
    private static readonly TimeSpan ClaimTolerance = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan HoldInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LongestDeferral = TimeSpan.FromHours(25);

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
            await notifier.WaitAsync(remaining, time, context.CancellationToken);
        }
    }

    private async Task<PullScheduleChangesResponse> ReadOutboxAsync(int max, CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select o.id, o.post_id, p.status, p.due_at, p.traceparent
            from (select id, post_id from schedule_outbox order by id limit @max) o
            left join scheduled_posts p on p.id = o.post_id
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
                Traceparent = reader.IsDBNull(4) ? "" : reader.GetString(4),
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
            after = Guid.TryParse(request.PageToken, out var parsed) ? parsed : throw Problems.InvalidArgument("page_token", "is not a token this API issued");
        }
        await using var query = database.Owner.CreateCommand("""
            select id, due_at from scheduled_posts
            where status = 'queued' and (@after::uuid is null or id > @after)
            order by id limit @limit
            """);
        query.Parameters.Add(new NpgsqlParameter("after", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)after ?? DBNull.Value });
        query.Parameters.AddWithValue("limit", pageSize);
        var response = new ListQueuedPostsResponse();
        await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
        while (await reader.ReadAsync(context.CancellationToken))
        {
            response.Posts.Add(new QueuedPost { PostId = reader.GetGuid(0).ToString(), PublishAt = Timestamp.FromDateTime(reader.GetDateTime(1)) });
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
        var oldestAllowed = now - retryPolicy.Options.MisfireWindow;
        var response = new ClaimDuePostsResponse();

        await using var connection = await database.Owner.OpenConnectionAsync(context.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(context.CancellationToken);

        // Which rows this call may move: the named ones, or (safety net) overdue ones nobody holds.
        var targets = ids.Count > 0
            ? "select id from scheduled_posts where id = any(@ids) and status = 'queued' and due_at <= @due_by for update skip locked"
            : "select id from scheduled_posts where status = 'queued' and due_at <= @due_by order by due_at limit @max for update skip locked";
        var dueBy = ids.Count > 0 ? now + ClaimTolerance : now - TimeSpan.FromMilliseconds(Math.Max(0, request.MinOverdueMs));

        await using (var claim = new NpgsqlCommand($"""
            with targets as ({targets}),
            missed as (
                update scheduled_posts p
                set status = 'missed', lease_expires_at = null,
                    error_message = 'Missed: found ' || to_char(@now - p.due_at, 'DD"d "HH24"h "MI"m"') || ' overdue, beyond the misfire window'
                from targets t where p.id = t.id and p.due_at < @oldest
                returning p.id),
            claimed as (
                update scheduled_posts p
                set status = 'publishing', attempt = p.attempt + 1, lease_expires_at = @now + @lease, call_started = false
                from targets t where p.id = t.id and p.due_at >= @oldest
                returning p.id, p.attempt, p.publish_at, p.platform, p.channel_id, p.traceparent)
            select id, attempt, publish_at, platform, channel_id, traceparent, false from claimed
            union all
            select id, 0, null, null, null, null, true from missed
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("ids", ids.ToArray());
            claim.Parameters.AddWithValue("due_by", dueBy);
            claim.Parameters.AddWithValue("max", Math.Clamp(request.MaxPosts == 0 ? 500 : request.MaxPosts, 1, 10_000));
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("oldest", oldestAllowed);
            claim.Parameters.AddWithValue("lease", lease);
            await using var reader = await claim.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                var id = reader.GetGuid(0).ToString();
                if (reader.GetBoolean(6))
                {
                    response.Missed.Add(id);
                    continue;
                }
                response.Claimed.Add(new ClaimedPost
                {
                    PostId = id,
                    Attempt = reader.GetInt32(1),
                    PublishAt = Timestamp.FromDateTime(reader.GetDateTime(2)),
                    Platform = Vocabulary.ToPlatform(reader.GetString(3)),
                    ChannelId = reader.GetGuid(4).ToString(),
                    Traceparent = reader.IsDBNull(5) ? "" : reader.GetString(5),
                });
            }
        }

        if (ids.Count > 0)
        {
            var handled = response.Claimed.Select(c => c.PostId).Concat(response.Missed).Select(Guid.Parse).ToHashSet();
            var rest = ids.Where(id => !handled.Contains(id)).ToArray();
            if (rest.Length > 0)
            {
                await using var remaining = new NpgsqlCommand(
                    "select id, status, due_at from scheduled_posts where id = any(@ids)", connection, transaction);
                remaining.Parameters.AddWithValue("ids", rest);
                var found = new HashSet<Guid>();
                await using var reader = await remaining.ExecuteReaderAsync(context.CancellationToken);
                while (await reader.ReadAsync(context.CancellationToken))
                {
                    var id = reader.GetGuid(0);
                    found.Add(id);
                    // A queued post not claimed is either due later (moved) or locked by a concurrent claim.
                    if (reader.GetString(1) == "queued" && reader.GetDateTime(2) > dueBy)
                    {
                        response.NotDue.Add(new QueuedPost { PostId = id.ToString(), PublishAt = Timestamp.FromDateTime(reader.GetDateTime(2)) });
                    }
                    else if (reader.GetString(1) != "queued")
                    {
                        response.NotQueued.Add(id.ToString());
                    }
                }
                response.NotQueued.AddRange(rest.Where(id => !found.Contains(id)).Select(id => id.ToString()));
            }
        }

        await transaction.CommitAsync(context.CancellationToken);
        if (response.Missed.Count > 0)
        {
            LogMissed(response.Missed.Count);
            metrics.Missed(response.Missed.Count);
        }
        return response;
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
                set status = 'queued', needs_reconciliation = p.needs_reconciliation or p.call_started,
                    call_started = false, lease_expires_at = null
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
        var now = time.GetUtcNow();
        await using var connection = await database.Owner.OpenConnectionAsync(context.CancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(context.CancellationToken);

        var response = new StartRunResponse();
        Guid userId, channelId;
        await using (var start = new NpgsqlCommand($"""
            update scheduled_posts set call_started = true,
                lease_expires_at = greatest(lease_expires_at, @now + @lease)
            where id = @id and attempt = @attempt and status = 'publishing'
            returning {PostRows.Columns}, user_id, needs_reconciliation, platform_state::text
            """, connection, transaction))
        {
            start.Parameters.AddWithValue("id", postId);
            start.Parameters.AddWithValue("attempt", request.Attempt);
            start.Parameters.AddWithValue("now", now);
            start.Parameters.AddWithValue("lease", retryPolicy.Options.Lease);
            await using var reader = await start.ExecuteReaderAsync(context.CancellationToken);
            if (!await reader.ReadAsync(context.CancellationToken))
            {
                throw Problems.FailedPrecondition($"Attempt {request.Attempt} of post {request.PostId} is not the current claim.");
            }
            response.Post = PostRows.Read(reader);
            userId = reader.GetGuid(PostRows.ColumnCount);
            response.NeedsReconciliation = reader.GetBoolean(PostRows.ColumnCount + 1);
            response.PlatformStateJson = reader.IsDBNull(PostRows.ColumnCount + 2) ? "" : reader.GetString(PostRows.ColumnCount + 2);
            channelId = Guid.Parse(response.Post.ChannelId);
        }

        await using (var channel = new NpgsqlCommand(
            "select platform, account_id, access_token_encrypted, settings::text, state from channels where id = @id",
            connection, transaction))
        {
            channel.Parameters.AddWithValue("id", channelId);
            await using var reader = await channel.ExecuteReaderAsync(context.CancellationToken);
            await reader.ReadAsync(context.CancellationToken);
            response.Channel = new ChannelAccess
            {
                ChannelId = channelId.ToString(),
                Platform = Vocabulary.ToPlatform(reader.GetString(0)),
                AccountId = reader.GetString(1),
                AccessToken = protector.Unprotect((byte[])reader[2]),
                Settings = ChannelRows.ReadSettings(reader.GetString(3)),
                State = Vocabulary.ToChannelState(reader.GetString(4)),
            };
        }

        if (response.Channel.State == ChannelState.Active)
        {
            await using var run = new NpgsqlCommand("""
                insert into post_runs (scheduled_post_id, user_id, attempt, started_at) values (@post, @user, @attempt, @now)
                returning id
                """, connection, transaction);
            run.Parameters.AddWithValue("post", postId);
            run.Parameters.AddWithValue("user", userId);
            run.Parameters.AddWithValue("attempt", request.Attempt);
            run.Parameters.AddWithValue("now", now);
            response.RunId = ((Guid)(await run.ExecuteScalarAsync(context.CancellationToken))!).ToString();
        }

        await transaction.CommitAsync(context.CancellationToken);
        return response;
    }

    public override async Task<ReportOutcomesResponse> ReportOutcomes(ReportOutcomesRequest request, ServerCallContext context)
    {
        var response = new ReportOutcomesResponse();
        foreach (var outcome in request.Outcomes)
        {
            response.Results.Add(await ApplyOutcomeAsync(outcome, context.CancellationToken));
        }
        return response;
    }

    private async Task<OutcomeResult> ApplyOutcomeAsync(PublishOutcome outcome, CancellationToken cancellationToken)
    {
        var postId = RequestFields.RequireId(outcome.PostId, "outcomes.post_id");
        using var span = PostTracing.StartRecordOutcome(outcome);
        using var scope = log.BeginPostScope(outcome.PostId, outcome.Attempt);
        var now = time.GetUtcNow();
        var finishedAt = outcome.FinishedAt?.ToDateTimeOffset() ?? now;
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        string platform;
        int retryCount;
        DateTimeOffset publishAt;
        Guid channelId;
        bool reconciled;
        await using (var current = new NpgsqlCommand("""
            select platform, retry_count, publish_at, channel_id, needs_reconciliation from scheduled_posts
            where id = @id and attempt = @attempt and status = 'publishing' for update
            """, connection, transaction))
        {
            current.Parameters.AddWithValue("id", postId);
            current.Parameters.AddWithValue("attempt", outcome.Attempt);
            await using var reader = await current.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                LogStaleReport(outcome.PostId, outcome.Attempt);
                span.SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Status, "stale");
                return new OutcomeResult { PostId = outcome.PostId, Accepted = false };
            }
            platform = reader.GetString(0);
            retryCount = reader.GetInt32(1);
            publishAt = reader.GetFieldValue<DateTimeOffset>(2);
            channelId = reader.GetGuid(3);
            reconciled = reader.GetBoolean(4);
        }

        var (status, dueAt, runStatus, errorClass, retries) = outcome.Kind switch
        {
            OutcomeKind.Published => ("published", (DateTimeOffset?)null, "success", (string?)null, retryCount),
            OutcomeKind.TransientFailure => retryPolicy.NextDelay(retryCount, Random.Shared.NextDouble()) is { } delay
                ? ("queued", now + delay, "failed", "transient", retryCount + 1)
                : ("failed", null, "failed", "transient", retryCount + 1),
            OutcomeKind.Deferred => ("queued", Clamp(outcome.RetryAt?.ToDateTimeOffset(), now), "deferred", "rate_limited", retryCount),
            OutcomeKind.PermanentFailure => ("failed", null, "failed", "permanent", retryCount),
            OutcomeKind.AuthFailure => ("failed", null, "failed", "auth", retryCount),
            OutcomeKind.Unconfirmed => ("unconfirmed", null, "unconfirmed", "ambiguous", retryCount),
            OutcomeKind.Held => ("queued", now + HoldInterval, (string?)null, (string?)null, retryCount),
            _ => throw Problems.InvalidArgument("outcomes.kind", "must be a known outcome kind"),
        };
        var errorMessage = outcome.Kind switch
        {
            OutcomeKind.Published or OutcomeKind.Held => null,
            OutcomeKind.TransientFailure when status == "failed" => $"Gave up after {retries} retries: {outcome.Error}",
            _ => NullIfEmpty(outcome.Error),
        };
        var traceparent = status == "queued" && dueAt is { } nextDue
            ? PostTracing.StartRetryTrace(span, outcome.PostId, outcome.Attempt, errorClass ?? "held", nextDue)
            : null;

        await using (var update = new NpgsqlCommand("""
            update scheduled_posts set
                status = @status,
                due_at = coalesce(@due_at, due_at),
                retry_count = @retries,
                platform_post_id = coalesce(@platform_post_id, platform_post_id),
                permalink = coalesce(@permalink, permalink),
                published_at = case when @status = 'published' then @finished_at else published_at end,
                error_message = @error,
                platform_state = coalesce(@platform_state::jsonb, platform_state),
                lease_expires_at = null,
                call_started = false,
                needs_reconciliation = case when @status = 'published' then false else needs_reconciliation end,
                traceparent = coalesce(@traceparent, traceparent)
            where id = @id and attempt = @attempt
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("status", status);
            update.Parameters.Add(new NpgsqlParameter("due_at", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)dueAt ?? DBNull.Value });
            update.Parameters.AddWithValue("retries", retries);
            update.Parameters.AddWithValue("platform_post_id", (object?)NullIfEmpty(outcome.PlatformPostId) ?? DBNull.Value);
            update.Parameters.AddWithValue("permalink", (object?)NullIfEmpty(outcome.Permalink) ?? DBNull.Value);
            update.Parameters.AddWithValue("finished_at", finishedAt);
            update.Parameters.AddWithValue("error", (object?)errorMessage ?? DBNull.Value);
            update.Parameters.AddWithValue("platform_state", (object?)NullIfEmpty(outcome.PlatformStateJson) ?? DBNull.Value);
            update.Parameters.AddWithValue("id", postId);
            update.Parameters.AddWithValue("attempt", outcome.Attempt);
            update.Parameters.Add(new NpgsqlParameter("traceparent", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)traceparent ?? DBNull.Value });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        if (runStatus is not null && Guid.TryParse(outcome.RunId, out var runId))
        {
            await using var run = new NpgsqlCommand("""
                update post_runs set status = @status, finished_at = @finished_at, error = @error,
                    error_code = @code, error_class = @class
                where id = @id and scheduled_post_id = @post and attempt = @attempt
                """, connection, transaction);
            run.Parameters.AddWithValue("status", runStatus);
            run.Parameters.AddWithValue("finished_at", finishedAt);
            run.Parameters.AddWithValue("error", (object?)NullIfEmpty(outcome.Error) ?? DBNull.Value);
            run.Parameters.AddWithValue("code", outcome.ErrorCode == 0 ? DBNull.Value : outcome.ErrorCode);
            run.Parameters.AddWithValue("class", (object?)errorClass ?? DBNull.Value);
            run.Parameters.AddWithValue("id", runId);
            run.Parameters.AddWithValue("post", postId);
            run.Parameters.AddWithValue("attempt", outcome.Attempt);
            await run.ExecuteNonQueryAsync(cancellationToken);
        }

        if (outcome.Kind == OutcomeKind.AuthFailure)
        {
            await using var channel = new NpgsqlCommand(
                "update channels set state = 'needs_reconnect', state_reason = @reason where id = @id and state = 'active'",
                connection, transaction);
            channel.Parameters.AddWithValue("reason", "The platform rejected the access token; reconnect the account and rotate its token.");
            channel.Parameters.AddWithValue("id", channelId);
            await channel.ExecuteNonQueryAsync(cancellationToken);
        }

        await Recurrence.ScheduleNextAsync(connection, transaction, postId, status, now, cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        metrics.OutcomeApplied(platform, outcome.Kind, status, errorClass, reconciled);
        span.SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Platform, platform)
            .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.ChannelId, channelId.ToString())
            .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.Status, status)
            .SetTag(SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags.ErrorClass, errorClass);
        LogOutcomeApplied(outcome.PostId, outcome.Attempt, PostsMetrics.OutcomeName(outcome.Kind), status);
        if (status == "published")
        {
            metrics.Published(platform, finishedAt - publishAt);
        }
        return new OutcomeResult
        {
            PostId = outcome.PostId,
            Accepted = true,
            Status = Vocabulary.ToPostStatus(status),
            NextAttemptAt = status == "queued" && dueAt is { } next ? Timestamp.FromDateTimeOffset(next) : null,
        };
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
            throw Problems.InvalidArgument("platform_state_json", "must be a JSON document");
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
            throw Problems.FailedPrecondition($"Attempt {request.Attempt} of post {request.PostId} is not the current claim.");
        }
        return new SavePlatformStateResponse();
    }

    private static DateTimeOffset Clamp(DateTimeOffset? retryAt, DateTimeOffset now)
    {
        var earliest = now + TimeSpan.FromSeconds(1);
        if (retryAt is not { } at || at < earliest)
        {
            return earliest;
        }
        return at > now + LongestDeferral ? now + LongestDeferral : at;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    [LoggerMessage(1, LogLevel.Information, "Ignored a stale outcome report for post {PostId} attempt {Attempt}")]
    private partial void LogStaleReport(string postId, int attempt);

    [LoggerMessage(2, LogLevel.Warning, "Marked {Count} posts missed: overdue beyond the misfire window")]
    private partial void LogMissed(int count);

    [LoggerMessage(80, LogLevel.Information, "Post {PostId} attempt {Attempt}: {Outcome}, now {Status}")]
    private partial void LogOutcomeApplied(string postId, int attempt, string outcome, string status);

    [LoggerMessage(3, LogLevel.Warning, "Recovered expired leases: {Requeued} requeued, {Reconcile} sent to reconciliation")]
    private partial void LogLeasesRecovered(int requeued, int reconcile);
}
