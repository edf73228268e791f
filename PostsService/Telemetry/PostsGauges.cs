using System.Diagnostics.Metrics;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Telemetry;

/// <summary>
/// Samples what only PostgreSQL knows, every few seconds, for observable gauges: posts due but not dispatched
/// (queued with due_at in the past: a dead or stuck dispatcher shows here first), publishing posts, and the schedule
/// outbox backlog and its oldest row's age (a stuck relay), from <see cref="StatisticsStore"/>. The queued total is
/// counted apart and less often when counting it is dear: it grows with the queue, while the rest stay small.
/// </summary>
public sealed partial class PostsGauges : BackgroundService
{
    private readonly StatisticsStore _statistics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<PostsGauges> _log;
    private readonly AlertThresholds _thresholds;
    private PostsSnapshot? _last;
    // Figures and their time in one reference, so /health never reads one sample's figures with another's time.
    private SampledAlerts? _alerts;
    private long? _queued;
    private DateTimeOffset _nextQueuedCount = DateTimeOffset.MinValue;

    public PostsGauges(StatisticsStore statistics, PostsMetrics metrics, AlertThresholds thresholds, IConfiguration configuration,
        TimeProvider time, ILogger<PostsGauges> log)
    {
        _statistics = statistics;
        _thresholds = thresholds;
        _time = time;
        _log = log;
        _interval = configuration.GetValue("Telemetry:GaugeInterval", TimeSpan.FromSeconds(5));
        var meter = metrics.Meter;
        meter.CreateObservableGauge("socialsync.posts.due_not_dispatched", () => Observe(s => s.DueNotDispatched), "{post}",
            "Queued posts whose due time has passed (not yet claimed by a scheduler)");
        meter.CreateObservableGauge("socialsync.posts.queued", ObserveQueued,
            "{post}", "Posts waiting for their time (counted at most every Telemetry:GaugeInterval, and less often when a count is slow)");
        meter.CreateObservableGauge("socialsync.posts.publishing", () => Observe(s => s.Publishing), "{post}", "Posts claimed and being published");
        meter.CreateObservableGauge("socialsync.outbox.pending", () => Observe(s => s.OutboxPending), "{change}",
            "Schedule changes not yet relayed to the scheduler's index");
        meter.CreateObservableGauge("socialsync.outbox.oldest_age", () => ObserveAge(), "s",
            "Age of the oldest schedule change not yet relayed (0 when none)");
        // The figures the alerts are judged on (docs/alerts.md), so the dashboard and Prometheus see what /health sees.
        meter.CreateObservableGauge("socialsync.posts.stuck_publishing", () => ObserveAlert(a => a.StuckPublishing), "{post}",
            "Posts in publishing without a change for longer than Alerts:StuckPublishingAfter (10 minutes)");
        meter.CreateObservableGauge("socialsync.posts.oldest_due_age", () => ObserveAlert(a => a.OldestDueAge.TotalSeconds), "s",
            "How long the longest-waiting due post of an active channel has been due (0 when none)");
        meter.CreateObservableGauge("socialsync.posts.retries_per_post", () => ObserveAlert(a => a.RetriesPerPost), "{retry}",
            "Retries per attempted post over Alerts:Window (an hour)");
        meter.CreateObservableGauge("socialsync.posts.failure_ratio", () => ObserveAlert(a => a.FailureRatio), "1",
            "Failed posts among those that ended (published or failed) over Alerts:Window (an hour)");
    }

    /// <summary>
    /// The alerts' figures of the last sample, when it is at most two intervals old (else null): /health reads them
    /// instead of asking PostgreSQL per probe, as the figures count a whole window of runs.
    /// </summary>
    public AlertFigures? RecentAlerts(DateTimeOffset now) => _alerts is { } sampled && now - sampled.At <= 2 * _interval ? sampled.Figures : null;

    private IEnumerable<Measurement<long>> Observe(Func<PostsSnapshot, long> value) =>
        _last is { } s ? [new Measurement<long>(value(s))] : [];

    private IEnumerable<Measurement<double>> ObserveAlert(Func<AlertFigures, double> value) =>
        _alerts is { } sampled ? [new Measurement<double>(value(sampled.Figures))] : [];

    private IEnumerable<Measurement<long>> ObserveQueued() =>
        _queued is { } queued ? [new Measurement<long>(queued)] : [];

    private IEnumerable<Measurement<double>> ObserveAge() =>
        _last is { } s ? [new Measurement<double>(s.OutboxOldestAge.TotalSeconds)] : [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            try
            {
                var now = _time.GetUtcNow();
                _last = await _statistics.SampleAsync(now, stoppingToken);
                _alerts = new SampledAlerts(await _statistics.AlertFiguresAsync(now, _thresholds, stoppingToken), now);
                if (_time.GetUtcNow() is var countedAt && countedAt >= _nextQueuedCount)
                {
                    var started = _time.GetTimestamp();
                    _queued = await _statistics.CountQueuedAsync(stoppingToken);
                    _nextQueuedCount = NextQueuedCount(countedAt, _time.GetElapsedTime(started), _interval);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _last = null;
                _alerts = null;
                _queued = null;
                _nextQueuedCount = DateTimeOffset.MinValue;
                LogSampleFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>
    /// When the queued total may be counted again after a count that began at <paramref name="countedAt"/> and took
    /// <paramref name="took"/>: never sooner than the gauges' interval, and late enough that counting takes at most
    /// 1/<see cref="QueuedCountShare"/> of one PostgreSQL backend's time (a million queued posts took 350 ms a count,
    /// docs/scale.md, so they are counted every 7 s; ten million every 70 s).
    /// </summary>
    public static DateTimeOffset NextQueuedCount(DateTimeOffset countedAt, TimeSpan took, TimeSpan interval) =>
        countedAt + (took * QueuedCountShare > interval ? took * QueuedCountShare : interval);

    public const int QueuedCountShare = 20;

    [LoggerMessage(1, LogLevel.Debug, "Sampling the posts gauges failed: {Reason}")]
    private partial void LogSampleFailed(string reason);

    private sealed record SampledAlerts(AlertFigures Figures, DateTimeOffset At);
}
