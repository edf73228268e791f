using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Telemetry;
using Tags = SocialSync.ServiceDefaults.SocialSyncTelemetry.Tags;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal RPCs PublisherService calls for the posts it was handed: open each attempt's run before calling the
/// platform, save what it must remember between calls, and report each attempt's outcome. Every one names the
/// claim's attempt, so a fenced-out worker can never overwrite a newer attempt.
/// </summary>
public sealed partial class PublisherRpcHandler(
    RunStore runs,
    OutcomeStore outcomes,
    RetryPolicy retryPolicy,
    PostsMetrics metrics,
    TimeProvider time,
    ILogger<PublisherRpcHandler> log)
{
    private const int MaxBatch = 10_000;

    public async Task<StartRunsResponse> StartRuns(StartRunsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var wanted = new List<RunRequest>(request.Runs.Count);
        for (var i = 0; i < request.Runs.Count; i++)
        {
            var id = RequestFields.ParseId(request.Runs[i].PostId, $"runs[{i}].post_id", violations);
            var runId = request.Runs[i].RunId.Length == 0 ? Guid.CreateVersion7() : RequestFields.ParseId(request.Runs[i].RunId, $"runs[{i}].run_id", violations);
            if (id is not null && runId is not null)
            {
                wanted.Add(new RunRequest(id.Value, request.Runs[i].Attempt, runId.Value));
            }
        }
        if (request.Runs.Count > MaxBatch)
        {
            violations.Add("runs", $"must hold at most {MaxBatch} items");
        }
        violations.ThrowIfAny();

        var opened = await runs.OpenAsync(wanted, time.GetUtcNow(), retryPolicy.Options.Lease, context.CancellationToken);
        var response = new StartRunsResponse();
        foreach (var (postId, attempt, _) in wanted)
        {
            var started = opened.TryGetValue(postId, out var run) && run.Attempt == attempt;
            response.Runs.Add(new StartedRun
            {
                PostId = postId.ToString(),
                Attempt = attempt,
                Started = started,
                RunId = started && run!.RunId is { } runId ? runId.ToString() : "",
            });
        }
        // Each channel once, however many of the batch's posts it carries.
        var attempts = wanted.Select(w => (w.PostId, w.Attempt)).ToHashSet();
        response.Channels.AddRange(opened.Values.Where(r => attempts.Contains((r.PostId, r.Attempt))).Select(r => r.Channel).Distinct());
        return response;
    }

    public async Task<ReportOutcomesResponse> ReportOutcomes(ReportOutcomesRequest request, ServerCallContext context)
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

    /// <summary>
    /// Applies a batch of outcomes in one transaction: lock the current claims, decide each outcome (an outcome whose
    /// attempt is not the current claim is refused without touching anything; a lost send Meta already reported is a
    /// publication), trace the decisions, write them all with set-based statements, commit, then count and log what
    /// was applied.
    /// </summary>
    private async Task<OutcomeResult[]> ApplyOutcomesAsync(IReadOnlyList<PublishOutcome> outcomesReported, Guid[] ids, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var batch = await outcomes.LockClaimsAsync(ids, cancellationToken);
        var reported = OutcomeRules.WithReportedSends(outcomesReported, ids, batch.ReportedSends);
        var decisions = OutcomeRules.DecideBatch(reported, ids, batch.Claims, now, retryPolicy, Random.Shared.NextDouble);
        var traceparents = TraceDecisions(reported, batch.Claims, ids, decisions);
        var writes = new List<OutcomeWrite>(reported.Count);
        for (var i = 0; i < reported.Count; i++)
        {
            if (decisions[i] is { } decision)
            {
                writes.Add(ToWrite(reported[i], ids[i], batch.Claims[ids[i]], decision, traceparents[i], now));
            }
        }
        await batch.WriteAsync(writes, now, cancellationToken);
        await batch.CommitAsync(cancellationToken);

        RecordApplied(reported, ids, batch.Claims, decisions, now);
        return [.. reported.Select((outcome, i) => decisions[i] is { } decision
            ? new OutcomeResult
            {
                PostId = outcome.PostId,
                Accepted = true,
                Status = decision.Status,
                NextAttemptAt = decision is { Status: PostStatus.Queued, DueAt: { } next } ? Timestamp.FromDateTimeOffset(next) : null,
            }
            : new OutcomeResult { PostId = outcome.PostId, Accepted = false })];
    }

    /// <summary>One span per outcome, in its attempt's trace; a requeue starts the next attempt's trace (its traceparent is stored).</summary>
    private string?[] TraceDecisions(IReadOnlyList<PublishOutcome> reported, IReadOnlyDictionary<Guid, CurrentClaim> claims, Guid[] ids,
        OutcomeDecision?[] decisions)
    {
        var traceparents = new string?[reported.Count];
        for (var i = 0; i < reported.Count; i++)
        {
            var outcome = reported[i];
            using var span = PostTracing.StartRecordOutcome(outcome);
            if (decisions[i] is not { } decision)
            {
                LogStaleReport(outcome.PostId, outcome.Attempt);
                span.SetTag(Tags.Status, "stale");
                continue;
            }
            var claim = claims[ids[i]];
            traceparents[i] = decision is { Status: PostStatus.Queued, DueAt: { } nextDue }
                ? PostTracing.StartRetryTrace(span, outcome.PostId, outcome.Attempt, decision.ErrorClass ?? "held", nextDue)
                : null;
            span.SetTag(Tags.Platform, claim.Platform)
                .SetTag(Tags.ChannelId, claim.ChannelId.ToString())
                .SetTag(Tags.Status, decision.Status.ToDb())
                .SetTag(Tags.ErrorClass, decision.ErrorClass);
        }
        return traceparents;
    }

    private static OutcomeWrite ToWrite(PublishOutcome outcome, Guid postId, CurrentClaim claim, OutcomeDecision decision, string? traceparent,
        DateTimeOffset now) => new(
        postId,
        outcome.Attempt,
        decision,
        outcome.FinishedAt?.ToDateTimeOffset() ?? now,
        ProtoStrings.NullIfUnset(outcome.PlatformPostId),
        ProtoStrings.NullIfUnset(outcome.Permalink),
        ProtoStrings.NullIfUnset(outcome.PlatformStateJson),
        traceparent,
        Guid.TryParse(outcome.RunId, out var runId) ? runId : null,
        ProtoStrings.NullIfUnset(outcome.Error),
        outcome.ErrorCode,
        claim.ChannelId,
        DisconnectsChannel: outcome.Kind == OutcomeKind.AuthFailure,
        ContinuesSeries: claim.Recurring && PostLifecycle.EndsOccurrence(decision.Status),
        UnconfirmedSendRef: ProtoStrings.NullIfUnset(outcome.UnconfirmedSendRef),
        ChannelRateLimitedUntil: outcome.ChannelRateLimited && decision is { Status: PostStatus.Queued, DueAt: { } until } ? until : null);

    private void RecordApplied(IReadOnlyList<PublishOutcome> reported, Guid[] ids, IReadOnlyDictionary<Guid, CurrentClaim> claims,
        OutcomeDecision?[] decisions, DateTimeOffset now)
    {
        for (var i = 0; i < reported.Count; i++)
        {
            if (decisions[i] is not { } decision)
            {
                continue;
            }
            var (outcome, claim) = (reported[i], claims[ids[i]]);
            metrics.OutcomeApplied(claim.Platform, outcome.Kind, decision.Status, decision.ErrorClass, claim.Reconciled);
            using (log.BeginPostScope(outcome.PostId, outcome.Attempt))
            {
                LogOutcomeApplied(outcome.PostId, outcome.Attempt, outcome.Kind.ToWord(), decision.Status.ToDb());
            }
            if (decision.Status == PostStatus.Published)
            {
                metrics.Published(claim.Platform, (outcome.FinishedAt?.ToDateTimeOffset() ?? now) - claim.PublishAt);
            }
        }
    }

    public async Task<SavePlatformStateResponse> SavePlatformState(SavePlatformStateRequest request, ServerCallContext context)
    {
        var postId = RequestFields.RequireId(request.PostId, "post_id");
        var state = string.IsNullOrEmpty(request.PlatformStateJson) ? "{}" : request.PlatformStateJson;
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(state);
        }
        catch (System.Text.Json.JsonException)
        {
            throw FieldViolations.Single("platform_state_json", "must be a JSON document");
        }
        return await runs.SavePlatformStateAsync(postId, request.Attempt, state, context.CancellationToken)
            ? new SavePlatformStateResponse()
            : throw NotTheCurrentClaim(request.PostId, request.Attempt);
    }

    private static FailedPreconditionException NotTheCurrentClaim(string postId, int attempt) =>
        new($"Attempt {attempt} of post {postId} is not the current claim.");

    [LoggerMessage(1, LogLevel.Information, "Ignored a stale outcome report for post {PostId} attempt {Attempt}")]
    private partial void LogStaleReport(string postId, int attempt);

    [LoggerMessage(80, LogLevel.Information, "Post {PostId} attempt {Attempt}: {Outcome}, now {Status}")]
    private partial void LogOutcomeApplied(string postId, int attempt, string outcome, string status);
}
