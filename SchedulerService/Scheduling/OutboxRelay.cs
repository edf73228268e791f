using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.SchedulerService.Telemetry;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Carries schedule changes from PostsService's outbox into the Redis index, acknowledging only what Redis took.
/// A change made while this service or Redis is down waits in PostgreSQL until it is relayed.
/// </summary>
public sealed partial class OutboxRelay(
    PostsInternalService.PostsInternalServiceClient posts,
    DispatchIndex index,
    WakeSignal wake,
    SchedulerState state,
    SchedulerMetrics metrics,
    TimeProvider time,
    ILogger<OutboxRelay> log) : BackgroundService
{
    private const int MaxChanges = 2000;
    private static readonly TimeSpan LongPoll = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After relaying a partial batch, the relay lets the next changes gather this long before it pulls again: a
    /// steady stream of creates is then relayed in batches of tens, not one round of RPCs and Redis calls per commit.
    /// Posts are created well before they are due, and the safety net covers the rest, so 10 ms cost no lateness.
    /// </summary>
    internal static readonly TimeSpan GatherDelay = TimeSpan.FromMilliseconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        // The changes indexed since the last pull: the next pull acknowledges them (one round trip per round). If
        // this process dies first, they are relayed again, which the versions in the index make harmless.
        var applied = new List<long>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                PullScheduleChangesResponse response;
                // The long poll is mostly empty: untraced. Changes that arrive get a batch trace of their own.
                using (SocialSyncTelemetry.Quiet())
                {
                    var pull = new PullScheduleChangesRequest { MaxChanges = MaxChanges, WaitMs = (int)LongPoll.TotalMilliseconds };
                    pull.AcknowledgedChangeIds.AddRange(applied);
                    response = await posts.PullScheduleChangesAsync(pull,
                        deadline: time.GetUtcNow().UtcDateTime + LongPoll + TimeSpan.FromSeconds(10),
                        cancellationToken: stoppingToken);
                    applied.Clear();
                }
                if (response.Changes.Count > 0)
                {
                    using var batch = SocialSyncTelemetry.StartRoot(SocialSyncTelemetry.Spans.RelayBatch, System.Diagnostics.ActivityKind.Consumer)
                        .SetTag(SocialSyncTelemetry.Tags.BatchSize, response.Changes.Count);
                    await ApplyAsync(response.Changes);
                    applied.AddRange(response.Changes.Select(c => c.ChangeId));
                }
                // Progress means the outbox is drained up to now: an empty poll, or changes indexed.
                state.RelayProgressed();
                failures = 0;
                if (response.Changes.Count is > 0 and < MaxChanges)
                {
                    await Task.Delay(GatherDelay, time, stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                LogRelayFailed(failures, ex.Message);
                await Task.Delay(Backoff(failures), time, stoppingToken);
            }
        }
    }

    private async Task ApplyAsync(IReadOnlyList<ScheduleChange> changes)
    {
        // Each change carries the post's state and version when it was read: the newest one for a post wins, here
        // and (against other replicas' relays) in the index itself.
        var latest = new Dictionary<string, ScheduleChange>();
        foreach (var change in changes)
        {
            if (!latest.TryGetValue(change.PostId, out var seen) || Newer(change, seen))
            {
                latest[change.PostId] = change;
            }
        }
        var entries = latest.Values.Select(c => c.Kind == ScheduleChangeKind.Upsert
            ? IndexEntry.Upsert(c.PostId, c.Version, c.DueAt.ToDateTimeOffset())
            : IndexEntry.Remove(c.PostId, c.Version)).ToList();
        var startedAt = time.GetUtcNow();
        await index.ApplyAsync(entries);
        DispatchTracing.Scheduled(latest.Values.Where(c => c.Kind == ScheduleChangeKind.Upsert), startedAt);
        var upserts = entries.Count(e => e.DueAt is not null);
        metrics.Relayed(upserts, entries.Count - upserts);
        if (upserts > 0)
        {
            wake.Pulse();
            await index.PublishWakeAsync();
        }
        LogRelayed(upserts, entries.Count - upserts);
    }

    private static bool Newer(ScheduleChange change, ScheduleChange than) =>
        (change.Version == 0 ? IndexEntry.Gone : change.Version) >= (than.Version == 0 ? IndexEntry.Gone : than.Version);

    internal static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 10))));

    [LoggerMessage(1, LogLevel.Debug, "Relayed schedule changes: {Upserts} upserts, {Removals} removals")]
    private partial void LogRelayed(int upserts, int removals);

    [LoggerMessage(2, LogLevel.Warning, "Relaying schedule changes failed ({Failures} in a row): {Reason}")]
    private partial void LogRelayFailed(int failures, string reason);
}
