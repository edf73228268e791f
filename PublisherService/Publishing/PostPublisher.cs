using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using SocialSync.Contracts;
using SocialSync.MediaInspection;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms;
using SocialSync.ServiceDefaults;

namespace SocialSync.PublisherService.Publishing;

/// <summary>
/// One attempt at one post: record the attempt (StartRuns, fenced by the claim's attempt number) before any platform
/// call, hand it to the publisher registered for the channel's platform (reconcile, then publish), and turn what
/// happened into an outcome for PostsService.
/// </summary>
public sealed partial class PostPublisher(
    PostsInternalService.PostsInternalServiceClient posts,
    PlatformRegistry platforms,
    ChannelThrottle throttle,
    PublisherMetrics metrics,
    TimeProvider time,
    MediaInspector media,
    IOptions<MediaOptions> mediaOptions,
    ILogger<PostPublisher> log)
{
    /// <summary>
    /// Records every attempt of a batch as started (one StartRuns call, before any platform call) and returns each
    /// started one as a job, by post id. Attempts that are no longer the current claim (fenced out) are left out of
    /// the answer: they must not be published.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, PublishJob>> StartRunsAsync(IReadOnlyList<ClaimedPost> batch, CancellationToken cancellationToken)
    {
        var request = new StartRunsRequest();
        // One run id per attempt of this call: a retry of this call (the same request) gets its runs back, while any
        // other handling of the same attempts is refused, since this one may call the platform. Time-ordered (UUIDv7),
        // so the runs table's primary key grows at its end rather than at random pages.
        request.Runs.AddRange(batch.Select(p => new RunToStart { PostId = p.PostId, Attempt = p.Attempt, RunId = Guid.CreateVersion7().ToString() }));
        var response = await posts.StartRunsAsync(request, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
        var channels = response.Channels.ToDictionary(c => c.ChannelId);
        var claims = batch.GroupBy(p => p.PostId).ToDictionary(g => g.Key, g => g.First());
        var started = new Dictionary<string, PublishJob>(response.Runs.Count);
        foreach (var run in response.Runs)
        {
            if (run.Started && claims.TryGetValue(run.PostId, out var post) && channels.TryGetValue(post.ChannelId, out var channel))
            {
                started[run.PostId] = new PublishJob(post, channel, run.RunId);
            }
            else
            {
                LogStale(run.PostId, run.Attempt);
            }
        }
        return started;
    }

    /// <summary>Publishes (or reconciles, or holds) one started attempt and returns the outcome to report.</summary>
    public async Task<PublishOutcome> PublishAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var channel = job.Channel;
        Activity.Current?.SetTag(SocialSyncTelemetry.Tags.ChannelId, channel.ChannelId);
        Activity.Current?.SetTag(SocialSyncTelemetry.Tags.Platform, channel.Platform.ToString().ToLowerInvariant());
        var outcome = new PublishOutcome { PostId = job.Post.PostId, Attempt = job.Attempt, RunId = job.RunId };

        if (ChannelStates.HoldsPosts(channel.State))
        {
            // The channel was paused or lost its token between the claim and now: the post goes back to wait for it.
            outcome.Kind = OutcomeKind.Held;
            outcome.Error = $"The channel is {channel.State}; the post waits until it is active again.";
            return Finish(outcome, channel.Platform);
        }
        if (channel.RateLimitedUntil is { } limitedUntil)
        {
            // Another replica (or this one, earlier) met the channel's rate limit: PostsService kept it on the channel.
            throttle.Hold(channel.ChannelId, limitedUntil.ToDateTimeOffset());
        }
        if (throttle.HeldUntil(channel.ChannelId) is { } heldUntil)
        {
            outcome.Kind = OutcomeKind.Deferred;
            outcome.RetryAt = Timestamp.FromDateTimeOffset(heldUntil);
            outcome.Error = "The platform rate-limited this channel; deferred without using a retry.";
            return Finish(outcome, channel.Platform);
        }
        if (!platforms.TryGet(channel.Platform, out var platform))
        {
            outcome.Kind = OutcomeKind.PermanentFailure;
            outcome.Error = $"No publisher handles {channel.Platform}.";
            return Finish(outcome, channel.Platform);
        }

        if (await BrokenMediaRuleAsync(job, channel, cancellationToken) is { } broken)
        {
            // The file behind a URL may have changed since the post was saved: the platform would refuse it, so it is
            // not called, and the failure names the item and the rule (no retry: the same bytes fail the same way).
            outcome.Kind = OutcomeKind.PermanentFailure;
            outcome.Error = broken;
            return Finish(outcome, channel.Platform);
        }

        var result = await platform.AttemptAsync(job, cancellationToken);
        outcome.PlatformStateJson = result.StateJson ?? "";
        switch (result)
        {
            case PublishedResult published:
                outcome.Kind = OutcomeKind.Published;
                outcome.PlatformPostId = published.PlatformPostId;
                outcome.Permalink = published.Permalink ?? "";
                break;
            case UnconfirmedResult unconfirmed:
                outcome.Kind = OutcomeKind.Unconfirmed;
                outcome.Error = unconfirmed.Error;
                outcome.UnconfirmedSendRef = unconfirmed.SendRef ?? "";
                break;
            case FailedResult failed:
                outcome.Kind = failed.ErrorClass switch
                {
                    ErrorClass.Transient => OutcomeKind.TransientFailure,
                    ErrorClass.RateLimited => OutcomeKind.Deferred,
                    ErrorClass.Auth => OutcomeKind.AuthFailure,
                    _ => OutcomeKind.PermanentFailure,
                };
                outcome.Error = failed.ErrorClass == ErrorClass.Auth
                    ? $"The {platform.Name} account needs to be reconnected: {failed.Error}. The channel's posts wait until it is reconnected."
                    : failed.Error;
                outcome.ErrorCode = failed.Code;
                outcome.ErrorSubcode = failed.Subcode ?? 0;
                if (failed.ErrorClass == ErrorClass.RateLimited && failed.RetryAt is { } retryAt)
                {
                    throttle.Hold(channel.ChannelId, retryAt);
                    outcome.RetryAt = Timestamp.FromDateTimeOffset(retryAt);
                    outcome.ChannelRateLimited = true;
                }
                break;
        }
        return Finish(outcome, channel.Platform);
    }

    /// <summary>
    /// With <c>Media:Checks</c> on, the first rule the post's media break now ("content.media[1].url: rule"); null when
    /// they pass. Skipped when an earlier attempt may have reached the platform: that attempt is reconciled, not judged again.
    /// </summary>
    private async Task<string?> BrokenMediaRuleAsync(PublishJob job, ChannelAccess channel, CancellationToken cancellationToken)
    {
        if (!mediaOptions.Value.Checks || job.Post.NeedsReconciliation || job.Post.Content is not { Media.Count: > 0 } content)
        {
            return null;
        }
        var mode = channel.Settings?.InstagramMode ?? InstagramMode.Unspecified;
        var broken = await media.CheckContentAsync(content, channel.Platform, mode, cancellationToken);
        return broken.Count == 0 ? null : $"content.media[{broken[0].Index}].url: {broken[0].Rule}";
    }

    private PublishOutcome Finish(PublishOutcome outcome, Platform platform)
    {
        outcome.FinishedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow());
        metrics.Outcome(platform, outcome);
        Activity.Current?.SetTag(SocialSyncTelemetry.Tags.Outcome, outcome.Kind.ToWord());
        if (outcome.ErrorCode != 0)
        {
            Activity.Current?.SetTag("socialsync.error_code", outcome.ErrorCode);
        }
        // The outcome is recorded in PostsService as a child of this attempt's span.
        outcome.Traceparent = Activity.Current?.Id ?? "";
        return outcome;
    }

    [LoggerMessage(1, LogLevel.Information, "Post {PostId} attempt {Attempt} is no longer the current claim; skipped")]
    private partial void LogStale(string postId, int attempt);
}
