using Microsoft.Extensions.Options;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Sleeps until the earliest score in the index, wakes early when an earlier post arrives, and claims what is due
/// in batches. There is no fixed poll: the only timed wake-up is the due time itself (or a long idle guard).
/// </summary>
public sealed partial class DispatchLoop(
    DispatchIndex index,
    Claimer claimer,
    WakeSignal wake,
    SchedulerState state,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<DispatchLoop> log) : BackgroundService
{
    private static readonly TimeSpan ContendedPause = TimeSpan.FromMilliseconds(20);
    private readonly SchedulerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var nextPulse = wake.NextPulse;
                var wait = await DispatchDueAsync(stoppingToken);
                state.DispatchLoopProgressed();
                state.RedisReachable = true;
                failures = 0;
                await WakeSignal.WaitAsync(nextPulse, wait, time, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                state.RedisReachable = ex is not StackExchange.Redis.RedisConnectionException and not StackExchange.Redis.RedisTimeoutException && state.RedisReachable;
                LogDispatchFailed(failures, ex.Message);
                await Task.Delay(OutboxRelay.Backoff(failures), time, stoppingToken);
            }
        }
    }

    /// <summary>Claims every due batch; returns how long to sleep before the next one is due.</summary>
    internal async Task<TimeSpan> DispatchDueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            string[] due;
            // Index reads find nothing most of the time: untraced. A claim carries posts: its own trace.
            using (SocialSyncTelemetry.Quiet())
            {
                due = await index.DueAsync(now, _options.ClaimBatchSize);
                if (due.Length == 0)
                {
                    var earliest = await index.EarliestAsync();
                    if (earliest is null)
                    {
                        return _options.MaxIdleWait;
                    }
                    var untilDue = earliest.Value - time.GetUtcNow();
                    return untilDue < _options.MaxIdleWait ? untilDue : _options.MaxIdleWait;
                }
            }

            using var batch = SocialSyncTelemetry.StartRoot(SocialSyncTelemetry.Spans.ClaimBatch)
                .SetTag(SocialSyncTelemetry.Tags.BatchSize, due.Length);
            var result = await claimer.ClaimAsync(due, cancellationToken);
            var settled = result.Claimed.Select(c => c.PostId).Concat(result.NotQueued).Concat(result.Missed).ToList();
            await index.ApplyAsync(result.NotDue.Select(p => (p.PostId, Claimer.DueAt(p))).ToList(), settled);
            if (result.Claimed.Count > 0)
            {
                LogClaimed(result.Claimed.Count, due.Length);
            }
            if (settled.Count + result.NotDue.Count == 0)
            {
                // Every due id is held by a concurrent claim (another replica); let it commit.
                return ContendedPause;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Claimed {Claimed} of {Due} due posts")]
    private partial void LogClaimed(int claimed, int due);

    [LoggerMessage(2, LogLevel.Warning, "Dispatch from the index failed ({Failures} in a row); the safety net covers due posts: {Reason}")]
    private partial void LogDispatchFailed(int failures, string reason);
}
