using System.Diagnostics.Metrics;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Telemetry;

/// <summary>
/// Samples what only PostgreSQL knows, every few seconds, for observable gauges: posts due but not dispatched
/// (queued with due_at in the past: a dead or stuck dispatcher shows here first), queued and publishing posts,
/// and the schedule outbox backlog and its oldest row's age (a stuck relay), from <see cref="StatisticsStore"/>.
/// </summary>
public sealed partial class PostsGauges : BackgroundService
{
    private readonly StatisticsStore _statistics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<PostsGauges> _log;
    private PostsSnapshot? _last;

    public PostsGauges(StatisticsStore statistics, PostsMetrics metrics, IConfiguration configuration, TimeProvider time, ILogger<PostsGauges> log)
    {
        _statistics = statistics;
        _time = time;
        _log = log;
        _interval = configuration.GetValue("Telemetry:GaugeInterval", TimeSpan.FromSeconds(5));
        var meter = metrics.Meter;
        meter.CreateObservableGauge("socialsync.posts.due_not_dispatched", () => Observe(s => s.DueNotDispatched), "{post}",
            "Queued posts whose due time has passed (not yet claimed by a scheduler)");
        meter.CreateObservableGauge("socialsync.posts.queued", () => Observe(s => s.Queued), "{post}", "Posts waiting for their time");
        meter.CreateObservableGauge("socialsync.posts.publishing", () => Observe(s => s.Publishing), "{post}", "Posts claimed and being published");
        meter.CreateObservableGauge("socialsync.outbox.pending", () => Observe(s => s.OutboxPending), "{change}",
            "Schedule changes not yet relayed to the scheduler's index");
        meter.CreateObservableGauge("socialsync.outbox.oldest_age", () => ObserveAge(), "s",
            "Age of the oldest schedule change not yet relayed (0 when none)");
    }

    private IEnumerable<Measurement<long>> Observe(Func<PostsSnapshot, long> value) =>
        _last is { } s ? [new Measurement<long>(value(s))] : [];

    private IEnumerable<Measurement<double>> ObserveAge() =>
        _last is { } s ? [new Measurement<double>(s.OutboxOldestAge.TotalSeconds)] : [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            try
            {
                _last = await _statistics.SampleAsync(_time.GetUtcNow(), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _last = null;
                LogSampleFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Debug, "Sampling the posts gauges failed: {Reason}")]
    private partial void LogSampleFailed(string reason);
}
