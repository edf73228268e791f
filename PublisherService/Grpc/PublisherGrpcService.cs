using System.Diagnostics;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.Publisher.V1;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Publishing;
using SocialSync.ServiceDefaults;
using SocialSync.ServiceDefaults.Security;
using SocialSync.ServiceDefaults.Telemetry;

namespace SocialSync.PublisherService.Grpc;

/// <summary>
/// Publishes a batch of claimed posts and reports all outcomes to PostsService in one call. The platform work runs
/// on the host's lifetime, not the caller's: a scheduler that gives up waiting must not cut a send in half.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed partial class PublisherGrpcService(
    PostPublisher publisher,
    OutcomeReporter reporter,
    IHostApplicationLifetime lifetime,
    ILogger<PublisherGrpcService> log) : Publisher.V1.PublisherService.PublisherServiceBase
{
    private const int MaxParallelPosts = 32;

    public override async Task<PublishPostsResponse> PublishPosts(PublishPostsRequest request, ServerCallContext context)
    {
        var stopping = lifetime.ApplicationStopping;
        var outcomes = new PublishOutcome?[request.Posts.Count];
        IReadOnlyDictionary<string, PublishJob> started;
        try
        {
            started = await publisher.StartRunsAsync(request.Posts, stopping);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // Nothing was sent: the claims' leases bring these posts back.
            LogStartFailed(request.Posts.Count, ex.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "Could not record the attempts; nothing was published."));
        }

        await Parallel.ForEachAsync(Enumerable.Range(0, request.Posts.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelPosts, CancellationToken = stopping },
            async (i, ct) =>
            {
                var post = request.Posts[i];
                if (!started.TryGetValue(post.PostId, out var job))
                {
                    return;
                }
                using var activity = StartPostActivity(post);
                using var scope = log.BeginPostScope(post.PostId, post.Attempt);
                try
                {
                    outcomes[i] = await publisher.PublishAsync(job, ct);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    // A bug or an unreachable PostsService: the claim's lease brings the post back to reconciliation.
                    LogPublishFailed(post.PostId, ex.Message);
                    activity.Activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                }
            });

        await reporter.ReportAsync(outcomes.OfType<PublishOutcome>().ToList(), stopping);
        return new PublishPostsResponse();
    }

    /// <summary>
    /// The attempt's span: a child of the scheduler's "dispatch post" (the context sent with the post), linked to
    /// this batch call, so each post of a batch stays in its own trace.
    /// </summary>
    private static SocialSyncTelemetry.SpanScope StartPostActivity(ClaimedPost post) =>
        SocialSyncTelemetry.StartPostSpan(SocialSyncTelemetry.Spans.PublishPost, ActivityKind.Internal, post.Traceparent, post.PostId,
                SocialSyncTelemetry.RecordedCurrent)
            .SetTag(SocialSyncTelemetry.Tags.Attempt, post.Attempt);

    [LoggerMessage(2, LogLevel.Warning, "Could not start {Count} attempts; their leases will bring them back: {Reason}")]
    private partial void LogStartFailed(int count, string reason);

    [LoggerMessage(1, LogLevel.Warning, "Publishing post {PostId} failed before an outcome; its lease will bring it back: {Reason}")]
    private partial void LogPublishFailed(string postId, string reason);
}
