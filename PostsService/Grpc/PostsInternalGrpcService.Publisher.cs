using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Telemetry;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.PostsService.Grpc;

/// <summary>PublisherService's calls: opening runs, reporting outcomes, saving platform state mid-attempt.</summary>
public sealed partial class PostsInternalGrpcService
{
    /// <summary>A call that starts with less than this share of Retry:Lease left on its claim renews the lease.</summary>
    private const double LeaseRenewedBelow = 0.9;

    public override async Task<StartRunsResponse> StartRuns(StartRunsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var ids = ParseIds(request.Runs.Select(r => r.PostId).ToList(), i => $"runs[{i}].post_id", violations);
        if (request.Runs.Count > MaxBatch)
        {
            violations.Add("runs", $"must hold at most {MaxBatch} items");
        }
        violations.ThrowIfAny();

        var attempts = ids.Select((id, i) => (PostId: id, request.Runs[i].Attempt)).DistinctBy(a => a.PostId).OrderBy(a => a.PostId).ToList();
        var (started, channels) = await runs.StartAsync(attempts, time.GetUtcNow(), retryPolicy.Options.Lease, LeaseRenewedBelow, context.CancellationToken);
        var byPost = started.ToDictionary(r => r.PostId);
        var response = new StartRunsResponse();
        for (var i = 0; i < ids.Length; i++)
        {
            var attempt = request.Runs[i].Attempt;
            var run = byPost.GetValueOrDefault(ids[i]);
            response.Runs.Add(new StartedRun
            {
                PostId = request.Runs[i].PostId,
                Attempt = attempt,
                Started = run is not null && run.Attempt == attempt,
                RunId = run is { RunId: { } runId } && run.Attempt == attempt ? runId.ToString() : "",
            });
        }
        response.Channels.AddRange(channels.Values.Select(c => new ChannelAccess
        {
            ChannelId = c.ChannelId.ToString(),
            Platform = Vocabulary.ToPlatform(c.Platform),
            AccountId = c.AccountId,
            AccessToken = protector.Unprotect(c.EncryptedToken),
            Settings = ChannelRows.ReadSettings(c.SettingsJson),
            State = Vocabulary.ToChannelState(c.State),
        }));
        return response;
    }

    public override async Task<ReportOutcomesResponse> ReportOutcomes(ReportOutcomesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var ids = ParseIds(request.Outcomes.Select(o => o.PostId).ToList(), i => $"outcomes[{i}].post_id", violations);
        for (var i = 0; i < request.Outcomes.Count; i++)
        {
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

        var now = time.GetUtcNow();
        var response = new ReportOutcomesResponse();
        var applied = new List<(OutcomeWrite Write, PublishOutcome Outcome, ClaimRow Claim)>(ids.Length);
        var used = new HashSet<Guid>();
        await using (var transaction = await outcomes.BeginAsync(ids.Distinct().ToArray(), context.CancellationToken))
        {
            for (var i = 0; i < ids.Length; i++)
            {
                var outcome = request.Outcomes[i];
                // The span covers the decision; the batch's statements follow for all outcomes at once.
                using var span = PostTracing.StartRecordOutcome(outcome);
                if (!transaction.Claims.TryGetValue(ids[i], out var claim) || claim.Attempt != outcome.Attempt || !used.Add(ids[i]))
                {
                    LogStaleReport(outcome.PostId, outcome.Attempt);
                    span.SetTag(Tags.Status, "stale");
                    response.Results.Add(new OutcomeResult { PostId = outcome.PostId, Accepted = false });
                    continue;
                }
                var write = Decide(ids[i], outcome, claim, now, span);
                applied.Add((write, outcome, claim));
                response.Results.Add(new OutcomeResult
                {
                    PostId = outcome.PostId,
                    Accepted = true,
                    Status = Vocabulary.ToPostStatus(write.Decision.Status),
                    NextAttemptAt = write.Decision is { Status: "queued", DueAt: { } next } ? Timestamp.FromDateTimeOffset(next) : null,
                });
            }
            await transaction.WriteAsync(applied.Select(a => a.Write).ToList(), now, context.CancellationToken);
            await transaction.CommitAsync(context.CancellationToken);
        }

        foreach (var (write, outcome, claim) in applied)
        {
            metrics.OutcomeApplied(claim.Platform, outcome.Kind, write.Decision.Status, write.Decision.ErrorClass, claim.NeedsReconciliation);
            using (log.BeginPostScope(outcome.PostId, outcome.Attempt))
            {
                LogOutcomeApplied(outcome.PostId, outcome.Attempt, PostsMetrics.OutcomeName(outcome.Kind), write.Decision.Status);
            }
            if (write.Decision.Status == "published")
            {
                metrics.Published(claim.Platform, write.FinishedAt - claim.PublishAt);
            }
        }
        return response;
    }

    /// <summary>What an accepted outcome does to its post (<see cref="OutcomeRules"/>), traced in the attempt's trace.</summary>
    private OutcomeWrite Decide(Guid postId, PublishOutcome outcome, ClaimRow claim, DateTimeOffset now, SpanScope span)
    {
        var decision = OutcomeRules.Decide(outcome, claim.RetryCount, now, retryPolicy, Random.Shared.NextDouble())!;
        var traceparent = decision is { Status: "queued", DueAt: { } nextDue }
            ? PostTracing.StartRetryTrace(span, outcome.PostId, outcome.Attempt, decision.ErrorClass ?? "held", nextDue)
            : null;
        span.SetTag(Tags.Platform, claim.Platform)
            .SetTag(Tags.ChannelId, claim.ChannelId.ToString())
            .SetTag(Tags.Status, decision.Status)
            .SetTag(Tags.ErrorClass, decision.ErrorClass);
        return new OutcomeWrite(postId, outcome.Attempt, Guid.TryParse(outcome.RunId, out var runId) ? runId : null, decision,
            outcome.FinishedAt?.ToDateTimeOffset() ?? now, Blank.AsNull(outcome.PlatformPostId), Blank.AsNull(outcome.Permalink),
            Blank.AsNull(outcome.PlatformStateJson), Blank.AsNull(outcome.Error), outcome.ErrorCode == 0 ? null : outcome.ErrorCode, traceparent,
            ChannelNeedsReconnect: outcome.Kind == OutcomeKind.AuthFailure, claim.Recurring);
    }

    public override async Task<SavePlatformStateResponse> SavePlatformState(SavePlatformStateRequest request, ServerCallContext context)
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
        if (!await runs.SavePlatformStateAsync(postId, request.Attempt, state, context.CancellationToken))
        {
            throw new FailedPreconditionException($"Attempt {request.Attempt} of post {request.PostId} is not the current claim.");
        }
        return new SavePlatformStateResponse();
    }

    [LoggerMessage(1, LogLevel.Information, "Ignored a stale outcome report for post {PostId} attempt {Attempt}")]
    private partial void LogStaleReport(string postId, int attempt);

    [LoggerMessage(80, LogLevel.Information, "Post {PostId} attempt {Attempt}: {Outcome}, now {Status}")]
    private partial void LogOutcomeApplied(string postId, int attempt, string outcome, string status);
}
