using Microsoft.Extensions.Options;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Sleeps until the earliest score in the shards this scheduler owns, wakes early when an earlier post arrives (or a
/// shard is gained), and claims what is due in batches. There is no fixed poll: the only timed wake-up is the due
/// time itself (or a long idle guard).
/// </summary>
public sealed partial class DispatchLoop(
    DispatchIndex index,
    OwnedShards shards,
    Claimer claimer,
    WakeSignal wake,
    SchedulerState state,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<DispatchLoop> log) : BackgroundService
{
    private readonly SchedulerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Taken before reading the index, so a post indexed while we read still wakes us.
                var nextPulse = wake.NextPulse;
                var wakeAt = await DispatchDueAsync(stoppingToken);
                state.DispatchLoopProgressed();
                state.RedisReachable = true;
                failures = 0;
                await WakeSignal.WaitUntilAsync(nextPulse, wakeAt, time, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                state.RedisReachable = ex is not StackExchange.Redis.RedisConnectionException and not StackExchange.Redis.RedisTimeoutException && state.RedisReachable;
                LogDispatchFailed(failures, ex.Message);
                // A rebuilt index (Redis back) pulses, ending the back-off early.
                await WakeSignal.WaitUntilAsync(wake.NextPulse, time.GetUtcNow() + OutboxRelay.Backoff(failures), time, stoppingToken);
            }
        }
    }

    /// <summary>Claims every due batch; returns when to look again (the next due time, or an idle guard).</summary>
    internal async Task<DateTimeOffset> DispatchDueAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            var owned = shards.Current;
            string[] due;
            // Index reads find nothing most of the time: untraced. A claim carries posts: its own trace.
            using (SocialSyncTelemetry.Quiet())
            {
                due = await index.DueAsync(owned, now, _options.ClaimBatchSize * Math.Max(1, _options.ClaimParallelism));
                if (due.Length == 0)
                {
                    var earliest = await index.EarliestAsync(owned);
                    var idleUntil = now + _options.MaxIdleWait;
                    return earliest is { } next && next < idleUntil ? next : idleUntil;
                }
            }

            using var span = SocialSyncTelemetry.StartRoot(SocialSyncTelemetry.Spans.ClaimBatch)
                .SetTag(SocialSyncTelemetry.Tags.BatchSize, due.Length);
            // A burst is claimed in batches, a few at once (each batch is one statement on its own connection).
            var results = await Task.WhenAll(due.Chunk(_options.ClaimBatchSize).Select(batch => claimer.ClaimAsync(batch, cancellationToken)));
            var changes = new List<IndexEntry>(due.Length);
            var claimed = 0;
            var settled = 0;
            var movedLater = 0;
            var nowScore = now.ToUnixTimeMilliseconds();
            foreach (var result in results)
            {
                changes.AddRange(result.Settled.Select(s => IndexEntry.Remove(s.PostId, s.Version)));
                changes.AddRange(result.NotDue.Select(p => IndexEntry.Upsert(p.PostId, p.Version, Claimer.DueAt(p))));
                claimed += result.Claimed.Count;
                settled += result.Settled.Count;
                // A post PostsService calls "not due" yet that our clock says is due means its clock is a little
                // behind ours: that is no progress, so pause rather than spin.
                movedLater += result.NotDue.Count(p => DispatchIndex.Score(Claimer.DueAt(p)) > nowScore);
            }
            await index.ApplyAsync(changes);
            if (claimed > 0)
            {
                LogClaimed(claimed, due.Length);
            }
            if (settled + movedLater == 0)
            {
                // Every due id is held by a concurrent claim or change (another replica, a user's edit).
                return now + _options.ContendedPause;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Claimed {Claimed} of {Due} due posts")]
    private partial void LogClaimed(int claimed, int due);

    [LoggerMessage(2, LogLevel.Warning, "Dispatch from the index failed ({Failures} in a row); the safety net covers due posts: {Reason}")]
    private partial void LogDispatchFailed(int failures, string reason);
}
