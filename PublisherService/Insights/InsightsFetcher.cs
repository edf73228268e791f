using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.PublisherService.Publishing;
using SocialSync.ServiceDefaults;

namespace SocialSync.PublisherService.Insights;

/// <summary>How often the insights fetcher asks what is due (section "Insights"; the schedule itself is PostsService's).</summary>
public sealed class InsightsFetchOptions
{
    public const string SectionName = "Insights";

    public TimeSpan FetchInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Posts (and channels) asked for per round; a full page is followed by another round at once.</summary>
    public int PageSize { get; set; } = 100;
}

/// <summary>
/// Measures engagement after publishing (docs/insights.md): every <see cref="InsightsFetchOptions.FetchInterval"/> it
/// asks PostsService which published Instagram posts are due for a snapshot (PostsService keeps the schedule: 1 hour,
/// 1 day and 7 days after publishing) and which accounts' online_followers are, reads them from Meta and reports them.
/// Meta's rate limits are respected as for publishing: a channel the platform throttled (<see cref="ChannelThrottle"/>,
/// shared with publishing, since Meta counts per account) is skipped until its hold ends, and a rate-limit error
/// (4, 17, 32, 613, ...) holds it; a transient or auth error leaves the snapshot due for the next round; a permanent
/// one (the media is gone) is reported, so it is not asked for again.
/// </summary>
public sealed partial class InsightsFetcher(
    InsightsInternalService.InsightsInternalServiceClient posts,
    InstagramInsights instagram,
    ChannelThrottle throttle,
    IOptions<InsightsFetchOptions> options,
    IOptions<MetaOptions> metaOptions,
    TimeProvider time,
    ILogger<InsightsFetcher> log) : BackgroundService
{
    private readonly InsightsFetchOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.FetchInterval, time);
        do
        {
            try
            {
                while (await FetchDueAsync(stoppingToken) && !stoppingToken.IsCancellationRequested)
                {
                    // A full page: more are due; the next page at once.
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The next round asks again: what was not recorded is still due.
                LogRoundFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One round; true when a page came back full and some of it was measured.</summary>
    private async Task<bool> FetchDueAsync(CancellationToken cancellationToken)
    {
        ListInsightsDueResponse due;
        // Nearly every round finds nothing: untraced, or it would make a trace per round.
        using (SocialSyncTelemetry.Quiet())
        {
            due = await posts.ListInsightsDueAsync(new ListInsightsDueRequest { PageSize = _options.PageSize },
                deadline: Deadline(30), cancellationToken: cancellationToken);
        }

        var snapshots = new RecordEngagementSnapshotsRequest();
        foreach (var post in due.Posts)
        {
            if (throttle.HeldUntil(post.ChannelId) is not null)
            {
                continue;
            }
            var measured = await TryAsync(post.ChannelId, () => instagram.MediaAsync(post.MediaId, post.AccessToken, cancellationToken));
            if (measured.Value is { } insights)
            {
                var snapshot = new EngagementSnapshot
                {
                    PostId = post.PostId,
                    Snapshot = post.Snapshot,
                    MeasureTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
                    MediaPublishTime = insights.PublishedAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
                };
                foreach (var (metric, value) in insights.Metrics)
                {
                    snapshot.Metrics[metric] = value;
                }
                snapshots.Snapshots.Add(snapshot);
            }
            else if (measured.PermanentError is { } error)
            {
                LogGaveUp(post.PostId, error);
                snapshots.Snapshots.Add(new EngagementSnapshot
                {
                    PostId = post.PostId,
                    Snapshot = post.Snapshot,
                    MeasureTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
                    Error = error,
                });
            }
        }
        if (snapshots.Snapshots.Count > 0)
        {
            await posts.RecordEngagementSnapshotsAsync(snapshots, deadline: Deadline(30), cancellationToken: cancellationToken);
        }

        foreach (var channel in due.Channels)
        {
            if (throttle.HeldUntil(channel.ChannelId) is not null)
            {
                continue;
            }
            var online = await TryAsync(channel.ChannelId, () => instagram.OnlineFollowersAsync(channel.AccountId, channel.AccessToken, cancellationToken));
            if (online.Value is { } byHour)
            {
                await posts.RecordOnlineFollowersAsync(new RecordOnlineFollowersRequest
                {
                    ChannelId = channel.ChannelId,
                    MeasureTime = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
                    ByUtcHour = { byHour },
                }, deadline: Deadline(10), cancellationToken: cancellationToken);
            }
        }
        return (due.Posts.Count >= _options.PageSize || due.Channels.Count >= _options.PageSize) && snapshots.Snapshots.Count > 0;
    }

    /// <summary>A read from Meta: its value, or the permanent error to report, or neither (try again in a later round).</summary>
    private async Task<(T? Value, string? PermanentError)> TryAsync<T>(string channelId, Func<Task<T>> read) where T : class
    {
        try
        {
            return (await read(), null);
        }
        catch (GraphApiException ex) when (ex.ErrorClass == ErrorClass.RateLimited)
        {
            var until = ex.RetryAt ?? time.GetUtcNow() + metaOptions.Value.DefaultRateLimitDelay;
            throttle.Hold(channelId, until);
            LogThrottled(channelId, ex.Code, until);
            return (null, null);
        }
        catch (GraphApiException ex) when (ex.ErrorClass == ErrorClass.Permanent)
        {
            return (null, ex.Message);
        }
        catch (GraphApiException ex)
        {
            LogNotMeasured(ex, channelId);
            return (null, null);
        }
    }

    private DateTime Deadline(int seconds) => time.GetUtcNow().UtcDateTime.AddSeconds(seconds);

    [LoggerMessage(1, LogLevel.Warning, "An insights round failed; the next round tries again")]
    private partial void LogRoundFailed(Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Channel {ChannelId}: Meta rate-limited insights (code {Code}); held until {Until}")]
    private partial void LogThrottled(string channelId, int code, DateTimeOffset until);

    [LoggerMessage(3, LogLevel.Warning, "Post {PostId}: Meta refused its insights for good ({Error}); no more snapshots")]
    private partial void LogGaveUp(string postId, string error);

    [LoggerMessage(4, LogLevel.Warning, "Channel {ChannelId}: insights not measured this round")]
    private partial void LogNotMeasured(Exception exception, string channelId);
}
