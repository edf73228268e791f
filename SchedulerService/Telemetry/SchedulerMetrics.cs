using System.Diagnostics.Metrics;
using SocialSync.SchedulerService.Scheduling;
using SocialSync.ServiceDefaults;

namespace SocialSync.SchedulerService.Telemetry;

/// <summary>
/// The scheduler's metrics (meter SocialSync.Scheduler): the Redis index's size (sampled every few seconds,
/// untraced), posts claimed by path, schedule changes relayed, posts handed to PublisherService and waiting for it.
/// </summary>
public sealed partial class SchedulerMetrics : BackgroundService
{
    public const string MeterName = "SocialSync.Scheduler";

    private readonly DispatchIndex _index;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly ILogger<SchedulerMetrics> _log;
    private readonly Counter<long> _claimed;
    private readonly Counter<long> _relayed;
    private long? _indexSize;

    public SchedulerMetrics(IMeterFactory meterFactory, DispatchIndex index, SchedulerState state, IServiceProvider services,
        IConfiguration configuration, TimeProvider time, ILogger<SchedulerMetrics> log)
    {
        _index = index;
        _time = time;
        _log = log;
        _interval = configuration.GetValue("Telemetry:GaugeInterval", TimeSpan.FromSeconds(5));
        var meter = meterFactory.Create(MeterName);
        _claimed = meter.CreateCounter<long>("socialsync.scheduler.claimed", "{post}", "Posts claimed, by path (index: on time; safety_net: found overdue in PostgreSQL)");
        _relayed = meter.CreateCounter<long>("socialsync.scheduler.relayed", "{change}", "Schedule changes applied to the Redis index, by kind");
        meter.CreateObservableCounter("socialsync.scheduler.dispatched", () => state.Dispatched, "{post}", "Posts handed to PublisherService");
        meter.CreateObservableGauge("socialsync.scheduler.index_size",
            () => _indexSize is { } size ? [new Measurement<long>(size)] : Array.Empty<Measurement<long>>(), "{post}",
            "Posts in the Redis sorted set (queued posts indexed by due time)");
        // Resolved lazily: PublishDispatcher is a hosted service constructed with the host.
        meter.CreateObservableGauge("socialsync.scheduler.dispatch_queue",
            () => services.GetRequiredService<PublishDispatcher>().Pending, "{post}", "Claimed posts waiting for a publish call");
    }

    public void Claimed(int count, string path)
    {
        if (count > 0)
        {
            _claimed.Add(count, new KeyValuePair<string, object?>("path", path));
        }
    }

    public void Relayed(int upserts, int removals)
    {
        if (upserts > 0)
        {
            _relayed.Add(upserts, new KeyValuePair<string, object?>("kind", "upsert"));
        }
        if (removals > 0)
        {
            _relayed.Add(removals, new KeyValuePair<string, object?>("kind", "remove"));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        do
        {
            try
            {
                using var quiet = SocialSyncTelemetry.Quiet();
                _indexSize = await _index.CountAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _indexSize = null;
                LogSampleFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Debug, "Sampling the index size failed: {Reason}")]
    private partial void LogSampleFailed(string reason);
}
