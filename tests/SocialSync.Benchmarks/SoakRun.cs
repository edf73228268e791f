using System.Diagnostics;
using Npgsql;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.Benchmarks;

/// <summary>
/// A steady load for as long as asked: each second, the posts due <see cref="Lead"/> later are created, so posts
/// are created, relayed, indexed, claimed and published continuously at the same rate while every process's memory
/// is sampled. Growth that goes on after warm-up is a leak a long-running service would die of.
/// </summary>
public static class SoakRun
{
    /// <summary>How far ahead of its due time a post is created: the index holds a steady ten seconds of posts.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromSeconds(10);

    private const string Label = "soak";
    private const int BatchSize = 100;

    private const int CalibrationPosts = 2000;
    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromMinutes(5);

    public static async Task<SoakReport> RunAsync(BenchmarkOptions options, TextWriter log)
    {
        log.WriteLine("starting the system (PostgreSQL with fsync on, Redis, emulator, three services, the AppHost's telemetry environment)");
        // The services run with the telemetry environment the AppHost gives them (every span recorded, whatever its
        // parent says), as users run them: a span kept alive by tracing is memory the soak must see.
        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions
        {
            DurablePostgres = true,
            Settings = AppHostTelemetry.Environment.ToDictionary(e => e.Key, e => (string?)e.Value),
        });
        using var workload = new Workload(system);
        await workload.CreateChannelsAsync(options.Channels);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},allowAdmin=true");
        var report = new SoakReport(options);
        var sampleInterval = TimeSpan.FromSeconds(options.SampleSeconds);
        var sources = await SourcesAsync(system, redis, sampleInterval);
        var length = TimeSpan.FromSeconds(options.TrickleSeconds);
        log.WriteLine($"soak: {options.TrickleRate} posts/s due continuously for {length.TotalSeconds:F0} s, {(options.SoakCreateAhead ? "all created ahead" : $"each created {Lead.TotalSeconds:F0} s ahead")}; memory sampled every {sampleInterval.TotalSeconds:F0} s");

        // Creating ahead is preparation: the soak's load, and its clock, start when the first post is due.
        var firstDue = options.SoakCreateAhead ? await CreateAheadAsync(workload, options, log) : DateTimeOffset.UtcNow + Lead;
        if (options.SoakCreateAhead)
        {
            await DelayUntilAsync(firstDue);
        }
        await using (var sampler = new MemorySampler(sources, sampleInterval))
        {
            report.LoadStarted = DateTimeOffset.UtcNow;
            var progress = LogProgressAsync(workload, options, firstDue, sampler, log);
            if (!options.SoakCreateAhead)
            {
                await ProduceAsync(workload, options, firstDue);
            }
            // The load goes on until the last post is due; what follows is the drain, not the steady state.
            await DelayUntilAsync(firstDue + length);
            await progress;
            report.Memory = await sampler.StopAsync();
            report.PublishedAtLoadEnd = await workload.WhatsAppMessagesAsync();
        }

        var total = options.TrickleRate * options.TrickleSeconds;
        try
        {
            await BenchmarkRun.WaitUntilAsync(async () => await workload.WhatsAppMessagesAsync() >= total, "the soak's posts to reach the emulator", CompletionTimeout,
                TimeSpan.FromSeconds(1));
            await BenchmarkRun.WaitUntilAsync(async () => (await workload.PersistedAsync(Label)).Published >= total, "the soak's posts to be published", CompletionTimeout,
                TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException ex)
        {
            // The counts below say how many are missing; the report is still written.
            log.WriteLine($"soak: {ex.Message}");
        }
        var received = await workload.ReceivedAsync(Label);
        report.Published = (await workload.PersistedAsync(Label)).Published;
        report.Lateness = received.Select(r => (r.Due, (r.Received - r.Due).TotalMilliseconds)).ToList();
        report.Received = received.Count;
        report.Distinct = received.Select(r => r.Index).Distinct().Count();
        log.WriteLine($"soak: {report.Published} published, {report.Received} messages for {report.Distinct} distinct posts; lateness {Distribution.Of(report.Lateness.Select(l => l.Milliseconds).ToList())}, due after warm-up {Distribution.Of(report.LatenessAfterWarmUp)}");
        foreach (var series in report.Memory.Where(s => s.Judged))
        {
            var trend = series.Trend;
            log.WriteLine($"soak: {series.Source.Name} after warm-up: mean {trend.MeanMb:F0} MB, slope {trend.SlopeMbPerHour:+0;-0} MB/h (limit {trend.LimitMbPerHour:F0}, noise floor {trend.NoiseFloorMbPerHour:F0}): {(trend.IsFlat ? "flat" : "GROWING")}");
        }
        return report;
    }

    /// <summary>
    /// Creates every post before the first is due, as the trickle phase does: the index starts full and empties as
    /// they go out (the shape of the soak in which the scheduler grew 17 MB a minute). The first due time leaves twice
    /// the creation time a first 2,000 posts (due in a week, so they stay indexed) took at the same rate; returns it.
    /// </summary>
    private static async Task<DateTimeOffset> CreateAheadAsync(Workload workload, BenchmarkOptions options, TextWriter log)
    {
        var total = options.TrickleRate * options.TrickleSeconds;
        var inAWeek = DateTimeOffset.UtcNow.AddDays(7);
        var rate = await workload.CreatePostsBatchedAsync("soak-calibration", Enumerable.Range(0, CalibrationPosts).Select(i => inAWeek.AddMilliseconds(i)).ToList(), 8, BatchSize);
        var firstDue = DateTimeOffset.UtcNow + Lead + TimeSpan.FromSeconds(2.0 * total / rate);
        var random = new Random(42);
        var dueTimes = Enumerable.Range(0, options.TrickleSeconds)
            .SelectMany(second => DueTimes(firstDue.AddSeconds(second), options.TrickleRate, random)).ToList();
        rate = await workload.CreatePostsBatchedAsync(Label, dueTimes, 8, BatchSize);
        log.WriteLine($"soak: all {total} posts created ahead at {rate:F0}/s, the first due at {firstDue:HH:mm:ss}");
        return firstDue;
    }

    /// <summary>Every second, creates the posts due in the second that starts <see cref="Lead"/> later.</summary>
    private static async Task ProduceAsync(Workload workload, BenchmarkOptions options, DateTimeOffset firstDue)
    {
        var random = new Random(42);
        for (var second = 0; second < options.TrickleSeconds; second++)
        {
            var secondStart = firstDue.AddSeconds(second);
            await DelayUntilAsync(secondStart - Lead);
            await workload.CreatePostsBatchedAsync(Label, DueTimes(secondStart, options.TrickleRate, random), 4, BatchSize, firstIndex: second * options.TrickleRate);
        }
    }

    /// <summary>A line a minute until the last post is due: how many went out of those due so far, and each process's memory.</summary>
    private static async Task LogProgressAsync(Workload workload, BenchmarkOptions options, DateTimeOffset firstDue, MemorySampler sampler, TextWriter log)
    {
        var started = DateTimeOffset.UtcNow;
        var end = firstDue.AddSeconds(options.TrickleSeconds);
        for (var minute = 1; started.AddMinutes(minute) < end; minute++)
        {
            await DelayUntilAsync(started.AddMinutes(minute));
            var due = (long)Math.Clamp((DateTimeOffset.UtcNow - firstDue).TotalSeconds * options.TrickleRate, 0, (double)options.TrickleRate * options.TrickleSeconds);
            log.WriteLine($"soak: {minute} min, {await workload.WhatsAppMessagesAsync()} published of {due} due so far; {sampler.Latest()}");
        }
    }

    /// <summary>One second's due times from <paramref name="secondStart"/>, evenly spread with a random offset each.</summary>
    private static List<DateTimeOffset> DueTimes(DateTimeOffset secondStart, int rate, Random random) =>
        Enumerable.Range(0, rate).Select(i => secondStart.AddMilliseconds((i + random.NextDouble()) * 1000.0 / rate)).ToList();

    private static async Task DelayUntilAsync(DateTimeOffset instant)
    {
        var wait = instant - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    /// <summary>SocialSync's three services are judged; Redis, PostgreSQL and the emulator are shown.</summary>
    private static async Task<List<MemorySource>> SourcesAsync(SocialSyncSystem system, ConnectionMultiplexer redis, TimeSpan interval)
    {
        var sources = new List<MemorySource>();
        foreach (var service in new[] { system.Posts, system.Schedulers[0], system.Publisher })
        {
            var pid = service.ProcessId!.Value;
            sources.Add(new MemorySource(ServiceName(service.Name), "RSS", () => ProcessMemory.RssKb(pid) / 1024.0, ManagedHeapCounter.TryStart(pid, interval)));
        }

        var info = await redis.GetServer(system.Redis.ConnectionString).InfoAsync("server");
        var redisPid = int.Parse(info.SelectMany(g => g).First(p => p.Key == "process_id").Value, System.Globalization.CultureInfo.InvariantCulture);
        sources.Add(new MemorySource("redis", "RSS", () => ProcessMemory.RssKb(redisPid) / 1024.0,
            NotJudgedBecause: "each indexed post leaves a version key for an hour (Scheduler:VersionMemory), so it grows for the first hour by design"));

        var postmaster = await PostmasterPidAsync(system);
        sources.Add(new MemorySource("postgresql", "PSS, all processes", () => ProcessMemory.TreePssKb(postmaster) / 1024.0,
            NotJudgedBecause: "its shared buffers fill as the table grows, by design"));

        if (ProcessMemory.FindDescendant("GraphApiEmulator") is { } emulator)
        {
            sources.Add(new MemorySource("graph-api-emulator", "RSS", () => ProcessMemory.RssKb(emulator) / 1024.0,
                NotJudgedBecause: "it keeps every message it receives, for the counts"));
        }
        return sources;
    }

    // One scheduler runs in the soak; its report name is the service's, not the replica's.
    private static string ServiceName(string processName) => processName.StartsWith("scheduler-service", StringComparison.Ordinal) ? "scheduler-service" : processName;

    private static async Task<int> PostmasterPidAsync(SocialSyncSystem system)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select setting from pg_settings where name = 'data_directory'", connection);
        var dataDirectory = (string)(await query.ExecuteScalarAsync())!;
        return int.Parse((await File.ReadAllLinesAsync(Path.Combine(dataDirectory, "postmaster.pid")))[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
