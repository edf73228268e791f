using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>SchedulerService's calls: the outbox relay, the index's rebuild, claims and lease recovery.</summary>
public sealed partial class PostsInternalGrpcService
{
    /// <summary>A claim this much after its due time is logged (the post is still published, up to the misfire window).</summary>
    private static readonly TimeSpan LateWarning = TimeSpan.FromMinutes(1);

    public override async Task<PullScheduleChangesResponse> PullScheduleChanges(PullScheduleChangesRequest request, ServerCallContext context)
    {
        var max = Math.Clamp(request.MaxChanges == 0 ? 1000 : request.MaxChanges, 1, 10_000);
        var wait = TimeSpan.FromMilliseconds(Math.Clamp(request.WaitMs, 0, 30_000));
        if (request.AcknowledgedChangeIds.Count > MaxBatch)
        {
            throw FieldViolations.Single("acknowledged_change_ids", $"must hold at most {MaxBatch} items");
        }
        var deadline = time.GetUtcNow() + wait;
        var acknowledged = request.AcknowledgedChangeIds.ToArray();
        while (true)
        {
            var changes = await outbox.AcknowledgeAndReadAsync(acknowledged, max, context.CancellationToken);
            acknowledged = [];
            var remaining = deadline - time.GetUtcNow();
            if (changes.Count > 0 || remaining <= TimeSpan.Zero)
            {
                var response = new PullScheduleChangesResponse();
                response.Changes.AddRange(changes.Select(c => new ScheduleChange
                {
                    ChangeId = c.ChangeId,
                    PostId = c.PostId.ToString(),
                    Kind = c.Queued ? ScheduleChangeKind.Upsert : ScheduleChangeKind.Remove,
                    DueAt = c.DueAt is { } due ? Timestamp.FromDateTimeOffset(due) : null,
                    Version = c.Version,
                    Traceparent = c.Traceparent ?? "",
                }));
                return response;
            }
            await notifier.WaitAsync(remaining < ScheduleChangeNotifier.RecheckInterval ? remaining : ScheduleChangeNotifier.RecheckInterval, time, context.CancellationToken);
        }
    }

    public override async Task<ListQueuedPostsResponse> ListQueuedPosts(ListQueuedPostsRequest request, ServerCallContext context)
    {
        var pageSize = Math.Clamp(request.PageSize == 0 ? 5000 : request.PageSize, 1, 50_000);
        Guid? after = null;
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            after = Guid.TryParse(request.PageToken, out var parsed) ? parsed : throw FieldViolations.Single("page_token", "is not a token this API issued");
        }
        var rows = await dispatch.ListQueuedAsync(after, pageSize, context.CancellationToken);
        var response = new ListQueuedPostsResponse();
        response.Posts.AddRange(rows.Select(ToQueuedPost));
        if (rows.Count == pageSize)
        {
            response.NextPageToken = rows[^1].PostId.ToString();
        }
        return response;
    }

    public override async Task<ClaimDuePostsResponse> ClaimDuePosts(ClaimDuePostsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var ids = ParseIds(request.PostIds, i => $"post_ids[{i}]", violations);
        if (ids.Length > MaxBatch)
        {
            violations.Add("post_ids", $"must hold at most {MaxBatch} items");
        }
        violations.ThrowIfAny();

        var window = retryPolicy.Options.MisfireWindow;
        var terms = new ClaimTerms(time.GetUtcNow(), retryPolicy.Options.Lease, window, Durations.Describe(window));
        var response = new ClaimDuePostsResponse { LeaseExpiresAt = Timestamp.FromDateTimeOffset(terms.Now + terms.Lease) };
        ClaimRows claim;
        if (ids.Length > 0)
        {
            (claim, var unclaimed) = await dispatch.ClaimNamedAsync(ids, terms, context.CancellationToken);
            foreach (var post in unclaimed)
            {
                // A queued post not claimed is either due later (moved) or locked by a concurrent claim or change;
                // the locked ones stay in the index and are asked for again.
                if (!post.Queued)
                {
                    response.Settled.Add(new SettledPost { PostId = post.PostId.ToString(), Version = post.Version });
                }
                else if (post.DueAt > terms.Now)
                {
                    response.NotDue.Add(ToQueuedPost(new QueuedPostRow(post.PostId, post.DueAt, post.Version)));
                }
            }
        }
        else
        {
            var dueBy = terms.Now - TimeSpan.FromMilliseconds(Math.Max(0, request.MinOverdueMs));
            claim = await dispatch.ClaimOverdueAsync(Math.Clamp(request.MaxPosts == 0 ? 500 : request.MaxPosts, 1, MaxBatch), dueBy, terms, context.CancellationToken);
        }

        response.Claimed.AddRange(claim.Claimed.Select(ToClaimedPost));
        response.Settled.AddRange(claim.Claimed.Select(c => new SettledPost { PostId = c.PostId.ToString(), Version = c.Version }));
        response.Settled.AddRange(claim.Missed.Select(m => new SettledPost { PostId = m.PostId.ToString(), Version = m.Version }));
        response.MissedCount = claim.Missed.Count;
        if (claim.Missed.Count > 0)
        {
            LogMissed(claim.Missed.Count, terms.MisfireWindowText);
            metrics.Missed(claim.Missed.Count);
        }
        var latestMs = claim.Claimed.Count > 0 ? claim.Claimed.Max(c => c.LateMs) : 0;
        if (latestMs > LateWarning.TotalMilliseconds)
        {
            LogLateClaim(claim.Claimed.Count, latestMs, terms.MisfireWindowText);
        }
        return response;
    }

    public override async Task<RecoverExpiredLeasesResponse> RecoverExpiredLeases(RecoverExpiredLeasesRequest request, ServerCallContext context)
    {
        var (requeued, reconcile) = await dispatch.RecoverExpiredLeasesAsync(time.GetUtcNow(),
            Math.Clamp(request.MaxPosts == 0 ? 1000 : request.MaxPosts, 1, MaxBatch), context.CancellationToken);
        if (requeued + reconcile > 0)
        {
            LogLeasesRecovered(requeued, reconcile);
            metrics.LeasesExpired(requeued, reconcile);
        }
        return new RecoverExpiredLeasesResponse { Requeued = requeued, SentToReconciliation = reconcile };
    }

    private static QueuedPost ToQueuedPost(QueuedPostRow row) =>
        new() { PostId = row.PostId.ToString(), DueAt = Timestamp.FromDateTimeOffset(row.DueAt), Version = row.Version };

    private static ClaimedPost ToClaimedPost(ClaimedPostRow row) => new()
    {
        PostId = row.PostId.ToString(),
        Attempt = row.Attempt,
        Platform = Vocabulary.ToPlatform(row.Platform),
        ChannelId = row.ChannelId.ToString(),
        Content = row.Content,
        Traceparent = row.Traceparent ?? "",
        NeedsReconciliation = row.NeedsReconciliation,
        PlatformStateJson = row.PlatformStateJson ?? "",
    };

    [LoggerMessage(2, LogLevel.Warning, "Marked {Count} posts missed: overdue beyond the misfire window of {Window}")]
    private partial void LogMissed(int count, string window);

    [LoggerMessage(3, LogLevel.Warning, "Recovered expired leases: {Requeued} requeued, {Reconcile} sent to reconciliation")]
    private partial void LogLeasesRecovered(int requeued, int reconcile);

    [LoggerMessage(4, LogLevel.Warning, "Claimed {Count} posts late (up to {LateMs} ms after their due time, within the misfire window of {Window}); each records its lateness")]
    private partial void LogLateClaim(int count, long lateMs, string window);
}
