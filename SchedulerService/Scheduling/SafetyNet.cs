using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// What keeps posts moving when the index cannot be trusted: it rebuilds the index whenever its completeness
/// marker is gone (FLUSHALL, a Redis restart, a first start), claims overdue posts straight from PostgreSQL (so a
/// dead or empty Redis delays a post by about a second, never loses it), and returns expired leases.
/// </summary>
public sealed partial class SafetyNet(
    PostsInternalService.PostsInternalServiceClient posts,
    DispatchIndex index,
    Claimer claimer,
    WakeSignal wake,
    SchedulerState state,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<SafetyNet> log) : BackgroundService
{
    private const int RebuildPageSize = 5000;
    private readonly SchedulerOptions _options = options.Value;
    private DateTimeOffset _nextLeaseRecovery;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SafetyNetInterval, time);
        do
        {
            // Each pass usually finds nothing: untraced, or it would make a trace a second. A post it claims still
            // gets its "dispatch post" span in the post's own trace.
            using (SocialSyncTelemetry.Quiet())
            {
                await EnsureIndexAsync(stoppingToken);
                await ClaimOverdueAsync(stoppingToken);
                await RecoverLeasesAsync(stoppingToken);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task EnsureIndexAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await index.IsCompleteAsync())
            {
                state.RedisReachable = true;
                return;
            }
            LogRebuilding();
            var count = await RebuildAsync(cancellationToken);
            LogRebuilt(count);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            state.RedisReachable = false;
            LogIndexUnavailable(ex.Message);
        }
    }

    /// <summary>Re-adds every queued post from PostgreSQL, then marks the index complete.</summary>
    public async Task<long> RebuildAsync(CancellationToken cancellationToken)
    {
        long count = 0;
        var request = new ListQueuedPostsRequest { PageSize = RebuildPageSize };
        do
        {
            var page = await posts.ListQueuedPostsAsync(request, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(60), cancellationToken: cancellationToken);
            await index.ApplyAsync(page.Posts.Select(p => (p.PostId, Claimer.DueAt(p))).ToList(), []);
            count += page.Posts.Count;
            request.PageToken = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(request.PageToken));
        await index.MarkCompleteAsync(state.InstanceId);
        wake.Pulse();
        await index.PublishWakeAsync();
        return count;
    }

    private async Task ClaimOverdueAsync(CancellationToken cancellationToken)
    {
        try
        {
            ClaimDuePostsResponse result;
            do
            {
                result = await claimer.ClaimOverdueAsync(_options.ClaimBatchSize, cancellationToken);
                if (result.Claimed.Count > 0)
                {
                    LogOverdueClaimed(result.Claimed.Count);
                }
            }
            while (result.Claimed.Count + result.Missed.Count >= _options.ClaimBatchSize);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogSafetyNetFailed(ex.Message);
        }
    }

    private async Task RecoverLeasesAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now < _nextLeaseRecovery)
        {
            return;
        }
        _nextLeaseRecovery = now + _options.LeaseRecoveryInterval;
        try
        {
            await posts.RecoverExpiredLeasesAsync(new RecoverExpiredLeasesRequest(),
                deadline: now.UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogSafetyNetFailed(ex.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The dispatch index is incomplete (new, flushed or restarted Redis); rebuilding from PostgreSQL")]
    private partial void LogRebuilding();

    [LoggerMessage(2, LogLevel.Information, "Rebuilt the dispatch index with {Count} queued posts")]
    private partial void LogRebuilt(long count);

    [LoggerMessage(3, LogLevel.Warning, "Redis is unavailable; dispatching overdue posts from PostgreSQL until it is back: {Reason}")]
    private partial void LogIndexUnavailable(string reason);

    [LoggerMessage(4, LogLevel.Warning, "Safety net claimed {Count} overdue posts the index had not dispatched")]
    private partial void LogOverdueClaimed(int count);

    [LoggerMessage(5, LogLevel.Warning, "Safety net pass failed: {Reason}")]
    private partial void LogSafetyNetFailed(string reason);
}
