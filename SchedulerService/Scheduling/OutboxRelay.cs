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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                PullScheduleChangesResponse response;
                // The long poll is mostly empty: untraced. Changes that arrive get a batch trace of their own.
                using (SocialSyncTelemetry.Quiet())
                {
                    response = await posts.PullScheduleChangesAsync(
                        new PullScheduleChangesRequest { MaxChanges = MaxChanges, WaitMs = (int)LongPoll.TotalMilliseconds },
                        deadline: time.GetUtcNow().UtcDateTime + LongPoll + TimeSpan.FromSeconds(10),
                        cancellationToken: stoppingToken);
                }
                if (response.Changes.Count > 0)
                {
                    using var batch = SocialSyncTelemetry.StartRoot(SocialSyncTelemetry.Spans.RelayBatch, System.Diagnostics.ActivityKind.Consumer)
                        .SetTag(SocialSyncTelemetry.Tags.BatchSize, response.Changes.Count);
                    await ApplyAsync(response.Changes);
                    var ack = new AckScheduleChangesRequest();
                    ack.ChangeIds.AddRange(response.Changes.Select(c => c.ChangeId));
                    await posts.AckScheduleChangesAsync(ack, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(15), cancellationToken: stoppingToken);
                }
                // Progress means the outbox is drained up to now: an empty poll, or changes indexed and acknowledged.
                state.RelayProgressed();
                failures = 0;
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
        // Each change names the post's state when it was read; the last one for a post wins.
        var latest = new Dictionary<string, ScheduleChange>();
        foreach (var change in changes)
        {
            latest[change.PostId] = change;
        }
        var upserts = latest.Values.Where(c => c.Kind == ScheduleChangeKind.Upsert)
            .Select(c => (c.PostId, c.PublishAt.ToDateTimeOffset())).ToList();
        var removals = latest.Values.Where(c => c.Kind != ScheduleChangeKind.Upsert).Select(c => c.PostId).ToList();
        var startedAt = time.GetUtcNow();
        await index.ApplyAsync(upserts, removals);
        DispatchTracing.Scheduled(latest.Values.Where(c => c.Kind == ScheduleChangeKind.Upsert), startedAt);
        metrics.Relayed(upserts.Count, removals.Count);
        if (upserts.Count > 0)
        {
            wake.Pulse();
            await index.PublishWakeAsync();
        }
        LogRelayed(upserts.Count, removals.Count);
    }

    internal static TimeSpan Backoff(int failures) =>
        TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 10))));

    [LoggerMessage(1, LogLevel.Debug, "Relayed schedule changes: {Upserts} upserts, {Removals} removals")]
    private partial void LogRelayed(int upserts, int removals);

    [LoggerMessage(2, LogLevel.Warning, "Relaying schedule changes failed ({Failures} in a row): {Reason}")]
    private partial void LogRelayFailed(int failures, string reason);
}
