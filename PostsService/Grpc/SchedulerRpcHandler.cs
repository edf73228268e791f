using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal RPCs SchedulerService calls: it relays the schedule outbox into its index (or rebuilds the index
/// from the queued posts), claims posts as they fall due, and recovers expired leases.
/// </summary>
public sealed partial class SchedulerRpcHandler(
    ScheduleOutboxStore outbox,
    ClaimStore claims,
    ScheduleChangeNotifier notifier,
    RetryPolicy retryPolicy,
    PostsMetrics metrics,
    TimeProvider time,
    ILogger<SchedulerRpcHandler> log)
{
    /// <summary>A claim this much after its due time is logged (the post is still published, up to the misfire window).</summary>
    private static readonly TimeSpan LateWarning = TimeSpan.FromMinutes(1);

    private const int MaxReleased = 50_000;

    /// <summary>
    /// Acknowledges the changes the caller relayed since its last pull (deleting them), then returns the oldest
    /// changes; when there are none, waits up to wait_ms for one (a long poll).
    /// </summary>
    public async Task<PullScheduleChangesResponse> PullScheduleChanges(PullScheduleChangesRequest request, ServerCallContext context)
    {
        var max = Math.Clamp(request.MaxChanges == 0 ? 1000 : request.MaxChanges, 1, 10_000);
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, 30_000));
        if (request.AcknowledgedChangeIds.Count > 10_000)
        {
            throw FieldViolations.Single("acknowledged_change_ids", "must hold at most 10000 items");
        }
        if (request.AcknowledgedChangeIds.Count > 0)
        {
            await outbox.AcknowledgeAsync([.. request.AcknowledgedChangeIds], context.CancellationToken);
        }
        var deadline = time.GetUtcNow() + wait;
        while (true)
        {
            var changes = await outbox.ReadAsync(max, context.CancellationToken);
            var remaining = deadline - time.GetUtcNow();
            if (changes.Count > 0 || remaining <= TimeSpan.Zero)
            {
                var response = new PullScheduleChangesResponse();
                response.Changes.AddRange(changes.Select(ToScheduleChange));
                return response;
            }
            await notifier.WaitAsync(remaining < ScheduleChangeNotifier.RecheckInterval ? remaining : ScheduleChangeNotifier.RecheckInterval, time, context.CancellationToken);
        }
    }

    private static ScheduleChange ToScheduleChange(OutboxChange change) => new()
    {
        ChangeId = change.ChangeId,
        PostId = change.PostId.ToString(),
        Kind = change.DueAt is null ? ScheduleChangeKind.Remove : ScheduleChangeKind.Upsert,
        DueAt = change.DueAt is { } due ? Timestamp.FromDateTime(due) : null,
        Version = change.Version,
        Traceparent = change.Traceparent ?? "",
    };

    public async Task<ListQueuedPostsResponse> ListQueuedPosts(ListQueuedPostsRequest request, ServerCallContext context)
    {
        var pageSize = Math.Clamp(request.PageSize == 0 ? 5000 : request.PageSize, 1, 50_000);
        Guid? after = null;
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            after = Guid.TryParse(request.PageToken, out var parsed) ? parsed : throw FieldViolations.Single("page_token", "is not a token this API issued");
        }
        var posts = await outbox.ListQueuedAsync(after, pageSize, context.CancellationToken);
        var response = new ListQueuedPostsResponse();
        response.Posts.AddRange(posts.Select(ToQueuedPost));
        if (response.Posts.Count == pageSize)
        {
            response.NextPageToken = response.Posts[^1].PostId;
        }
        return response;
    }

    private static QueuedPost ToQueuedPost(DuePost post) =>
        new() { PostId = post.PostId.ToString(), DueAt = Timestamp.FromDateTime(post.DueAt), Version = post.Version };

    /// <summary>
    /// Claims the named posts once due (never early), or with no names (the safety net) the overdue ones nobody
    /// holds. Each post claimed gets a new attempt and a lease; one overdue beyond the misfire window is missed.
    /// </summary>
    public async Task<ClaimDuePostsResponse> ClaimDuePosts(ClaimDuePostsRequest request, ServerCallContext context)
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
        var window = retryPolicy.Options.MisfireWindow;
        var terms = new ClaimTerms(now, retryPolicy.Options.Lease, window, DurationText.Describe(window));
        var result = ids.Count > 0
            ? await claims.ClaimNamedAsync([.. ids], terms, context.CancellationToken)
            : await claims.ClaimOverdueAsync(now - TimeSpan.FromMilliseconds(Math.Max(0, request.MinOverdueMs)),
                Math.Clamp(request.MaxPosts == 0 ? 500 : request.MaxPosts, 1, 10_000), terms, context.CancellationToken);

        if (result.Missed.Count > 0)
        {
            LogMissed(result.Missed.Count, terms.MisfireWindowText);
            metrics.Missed(result.Missed.Count);
        }
        var latestMs = result.Claimed.Count > 0 ? Math.Max(0, result.Claimed.Max(c => c.LateMs)) : 0;
        if (latestMs > LateWarning.TotalMilliseconds)
        {
            LogLateClaim(result.Claimed.Count, latestMs, terms.MisfireWindowText);
        }
        return ToResponse(result, terms);
    }

    private static ClaimDuePostsResponse ToResponse(ClaimResult result, ClaimTerms terms)
    {
        var response = new ClaimDuePostsResponse
        {
            MissedCount = result.Missed.Count,
            LeaseExpiresAt = Timestamp.FromDateTimeOffset(terms.Now + terms.Lease),
        };
        response.Claimed.AddRange(result.Claimed.Select(c => new ClaimedPost
        {
            PostId = c.PostId.ToString(),
            Attempt = c.Attempt,
            Platform = Vocabulary.ToPlatform(c.Platform),
            ChannelId = c.ChannelId.ToString(),
            Content = c.Content,
            Traceparent = c.Traceparent ?? "",
            NeedsReconciliation = c.NeedsReconciliation,
            PlatformStateJson = c.PlatformStateJson ?? "",
            Recipients = { c.Recipients },
            InDoubtAttempt = c.InDoubtAttempt ?? 0,
        }));
        response.NotDue.AddRange(result.NotDue.Select(ToQueuedPost));
        // Every post whose place in the index is settled: claimed, missed, no longer queued, or held by its channel.
        response.Settled.AddRange(result.Claimed.Select(c => new PostVersion(c.PostId, c.Version)).Concat(result.Missed).Concat(result.NotQueued)
            .Concat(result.Held)
            .Select(s => new SettledPost { PostId = s.PostId.ToString(), Version = s.Version }));
        return response;
    }

    public async Task<RecoverExpiredLeasesResponse> RecoverExpiredLeases(RecoverExpiredLeasesRequest request, ServerCallContext context)
    {
        var (requeued, reconcile) = await claims.RecoverExpiredLeasesAsync(time.GetUtcNow(),
            Math.Clamp(request.MaxPosts == 0 ? 1000 : request.MaxPosts, 1, 10_000), context.CancellationToken);
        if (requeued + reconcile > 0)
        {
            LogLeasesRecovered(requeued, reconcile);
            metrics.LeasesExpired(requeued, reconcile);
        }
        return new RecoverExpiredLeasesResponse { Requeued = requeued, SentToReconciliation = reconcile };
    }

    /// <summary>Returns a stopping scheduler's claims that never reached a publisher to queued, so another claims them at once.</summary>
    public async Task<ReleaseClaimsResponse> ReleaseClaims(ReleaseClaimsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var claimsToRelease = new List<(Guid PostId, int Attempt)>(request.Claims.Count);
        for (var i = 0; i < request.Claims.Count; i++)
        {
            if (RequestFields.ParseId(request.Claims[i].PostId, $"claims[{i}].post_id", violations) is { } id)
            {
                claimsToRelease.Add((id, request.Claims[i].Attempt));
            }
        }
        if (request.Claims.Count > MaxReleased)
        {
            violations.Add("claims", $"must hold at most {MaxReleased} items");
        }
        violations.ThrowIfAny();

        var released = await claims.ReleaseAsync(claimsToRelease, context.CancellationToken);
        LogClaimsReleased(released, claimsToRelease.Count);
        return new ReleaseClaimsResponse { Released = released };
    }

    [LoggerMessage(2, LogLevel.Warning, "Marked {Count} posts missed: overdue beyond the misfire window of {Window}")]
    private partial void LogMissed(int count, string window);

    [LoggerMessage(3, LogLevel.Warning, "Recovered expired leases: {Requeued} requeued, {Reconcile} sent to reconciliation")]
    private partial void LogLeasesRecovered(int requeued, int reconcile);

    [LoggerMessage(5, LogLevel.Information, "Released {Released} of {Asked} claims of a stopping scheduler back to queued")]
    private partial void LogClaimsReleased(int released, int asked);

    [LoggerMessage(4, LogLevel.Warning, "Claimed {Count} posts late (up to {LateMs} ms after their due time, within the misfire window of {Window}); each records its lateness")]
    private partial void LogLateClaim(int count, long lateMs, string window);
}
