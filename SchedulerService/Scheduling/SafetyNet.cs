using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// What keeps posts moving when the index cannot be trusted: it rebuilds each shard this scheduler owns whenever
/// the shard's completeness marker is gone (FLUSHALL, a restart of its Redis node, a first start), claims overdue posts straight from PostgreSQL (so a
/// dead or empty Redis delays a post by about a second, never loses it), and returns expired leases.
/// </summary>
public sealed partial class SafetyNet(
    PostsInternalService.PostsInternalServiceClient posts,
    DispatchIndex index,
    OwnedShards shards,
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
                // PostgreSQL work first: a dead Redis must not delay the posts it can no longer index.
                if (await ClaimOverdueAsync(stoppingToken))
                {
                    state.SafetyNetProgressed();
                }
                await RecoverLeasesAsync(stoppingToken);
                await EnsureIndexAsync(stoppingToken);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task EnsureIndexAsync(CancellationToken cancellationToken)
    {
        if (!index.IsConnected)
        {
            state.RedisReachable = false;
            return;
        }
        try
        {
            var incomplete = await index.IncompleteAsync(shards.Current);
            state.RedisReachable = true;
            if (incomplete.Length == 0)
            {
                return;
            }
            LogRebuilding(string.Join(",", incomplete));
            var count = await RebuildAsync(incomplete, cancellationToken);
            if (count is { } rebuilt)
            {
                LogRebuilt(rebuilt);
            }
            else
            {
                LogRebuildInterrupted();
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            state.RedisReachable = false;
            LogIndexUnavailable(ex.Message);
        }
    }

    /// <summary>
    /// Re-adds every queued post of the given shards from PostgreSQL, then marks those shards complete; returns null
    /// when a shard was flushed (or another rebuild of it started) meanwhile, so that no shard is marked complete
    /// with holes.
    /// </summary>
    public async Task<long?> RebuildAsync(IReadOnlyList<int> rebuilt, CancellationToken cancellationToken)
    {
        var token = $"{state.InstanceId}:{Guid.NewGuid():N}";
        var only = rebuilt.ToHashSet();
        await index.BeginRebuildAsync(rebuilt, token);
        long count = 0;
        var request = new ListQueuedPostsRequest { PageSize = RebuildPageSize };
        do
        {
            var page = await posts.ListQueuedPostsAsync(request, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(60), cancellationToken: cancellationToken);
            var entries = page.Posts.Select(p => IndexEntry.Upsert(p.PostId, p.Version, Claimer.DueAt(p)))
                .Where(e => only.Contains(index.Keys.ShardOf(e.PostId))).ToList();
            await index.ApplyAsync(entries);
            count += entries.Count;
            request.PageToken = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(request.PageToken));
        var interrupted = await index.CompleteRebuildAsync(rebuilt, token);
        wake.Pulse();
        await index.PublishWakeAsync();
        return interrupted.Length == 0 ? count : null;
    }

    /// <summary>Claims every overdue queued post; false when PostsService could not be reached.</summary>
    private async Task<bool> ClaimOverdueAsync(CancellationToken cancellationToken)
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
            while (result.Claimed.Count + result.MissedCount >= _options.ClaimBatchSize);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogSafetyNetFailed(ex.Message);
            return false;
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

    [LoggerMessage(1, LogLevel.Warning, "Index shards {Shards} are incomplete (new, flushed or restarted Redis); rebuilding them from PostgreSQL")]
    private partial void LogRebuilding(string shards);

    [LoggerMessage(2, LogLevel.Information, "Rebuilt index shards with {Count} queued posts")]
    private partial void LogRebuilt(long count);

    [LoggerMessage(3, LogLevel.Warning, "Redis is unavailable; dispatching overdue posts from PostgreSQL until it is back: {Reason}")]
    private partial void LogIndexUnavailable(string reason);

    [LoggerMessage(4, LogLevel.Warning, "Safety net claimed {Count} overdue posts the index had not dispatched")]
    private partial void LogOverdueClaimed(int count);

    [LoggerMessage(6, LogLevel.Warning, "The dispatch index was flushed or rebuilt elsewhere during a rebuild; rebuilding again on the next pass")]
    private partial void LogRebuildInterrupted();

    [LoggerMessage(5, LogLevel.Warning, "Safety net pass failed: {Reason}")]
    private partial void LogSafetyNetFailed(string reason);
}
