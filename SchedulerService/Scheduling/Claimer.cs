using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.SchedulerService.Telemetry;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>Claims posts in PostgreSQL (through PostsService), then hands the claimed ones to the dispatcher.</summary>
public sealed class Claimer(
    PostsInternalService.PostsInternalServiceClient posts,
    PublishDispatcher dispatcher,
    SchedulerMetrics metrics,
    IOptions<SchedulerOptions> options,
    TimeProvider time)
{
    private readonly SchedulerOptions _options = options.Value;

    public async Task<ClaimDuePostsResponse> ClaimAsync(IEnumerable<string> postIds, CancellationToken cancellationToken)
    {
        var request = new ClaimDuePostsRequest();
        request.PostIds.AddRange(postIds);
        return await SendAsync(request, "index", cancellationToken);
    }

    /// <summary>The safety net: claims overdue queued posts straight from PostgreSQL, whatever the index holds.</summary>
    public async Task<ClaimDuePostsResponse> ClaimOverdueAsync(int max, CancellationToken cancellationToken) =>
        await SendAsync(new ClaimDuePostsRequest
        {
            MaxPosts = max,
            MinOverdueMs = (int)_options.SafetyNetGrace.TotalMilliseconds,
        }, "safety_net", cancellationToken);

    private async Task<ClaimDuePostsResponse> SendAsync(ClaimDuePostsRequest request, string path, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var response = await posts.ClaimDuePostsAsync(request,
            deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
        DispatchTracing.Claimed(response.Claimed, path, startedAt);
        metrics.Claimed(response.Claimed.Count, path);
        // The claims' lease as a duration, measured on our clock: how long a publish call for them may take.
        var lease = response.LeaseExpiresAt.ToDateTimeOffset() - startedAt;
        await dispatcher.EnqueueAsync(response.Claimed, lease, cancellationToken);
        return response;
    }

    public static DateTimeOffset DueAt(QueuedPost post) => post.DueAt.ToDateTimeOffset();
}
