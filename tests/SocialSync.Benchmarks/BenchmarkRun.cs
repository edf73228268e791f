using System.Diagnostics;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.Benchmarks;

/// <summary>
/// Drives the real system (Release builds, durable PostgreSQL, the emulator answering at once) through create,
/// burst and trickle phases, then measures the raw limits of the same servers for the ratios.
/// </summary>
public static class BenchmarkRun
{
    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromMinutes(5);
    private const int BatchSize = 100;

    public static async Task<BenchmarkReport> RunAsync(BenchmarkOptions options, TextWriter log)
    {
        BullMqBurst.EnsureInstalled();
        var report = new BenchmarkReport(options);
        log.WriteLine("starting the system (PostgreSQL with fsync on, Redis, emulator, three services)");
        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions { DurablePostgres = true });
        using var workload = new Workload(system);
        await workload.CreateChannelsAsync(options.Channels);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},allowAdmin=true");

        // 0. Warm-up: a long-running service has compiled its hot paths; a just-started one is still JIT-compiling them.
        if (options.WarmupPosts > 0)
        {
            await WarmUpAsync(workload, options, log);
        }

        // 1. Create throughput (due far ahead, so nothing fires), and Redis memory per indexed post.
        // The creates are held to PostgreSQL's own INSERT rate, measured right before and right after them: the
        // machine's speed drifts over minutes (pgbench alone gave 5,300 to 7,500 a second across runs of one day),
        // and a rate measured at another moment than the creates compares two different machines.
        var insertsBefore = await RawLimits.PostgresInsertsPerSecondAsync(system, options.CreateConcurrency, BenchmarkReport.RawInsertSeconds);
        var memoryBefore = await UsedMemoryAsync(redis, system);
        var farAhead = DateTimeOffset.UtcNow.AddDays(7);
        await using var createSampler = new ResourceSampler(SampledProcesses(system));
        report.CreateRate = await workload.CreatePostsAsync("create", Enumerable.Range(0, options.CreatePosts).Select(i => farAhead.AddMilliseconds(i)).ToList(), options.CreateConcurrency);
        report.CreateUsage = new PhaseUsage(await createSampler.StopAsync(), createSampler.MachineBusySeconds, createSampler.ElapsedSeconds);
        await WaitForIndexAsync(redis, options.CreatePosts);
        report.PostgresInsertRates = (insertsBefore, await RawLimits.PostgresInsertsPerSecondAsync(system, options.CreateConcurrency, BenchmarkReport.RawInsertSeconds));
        report.RedisBytesPerPost = (await UsedMemoryAsync(redis, system) - memoryBefore) / (double)options.CreatePosts;
        log.WriteLine($"create: {report.CreateRate:F0} posts/s (pgbench INSERT commits {report.PostgresInsertRates.Before:F0}/s before, {report.PostgresInsertRates.After:F0}/s after); Redis {report.RedisBytesPerPost:F0} bytes per indexed post");
        report.BatchCreateRate = await workload.CreatePostsBatchedAsync("batch", Enumerable.Range(0, options.CreatePosts).Select(i => farAhead.AddMilliseconds(i)).ToList(),
            Math.Min(options.CreateConcurrency, 8), BatchSize);
        log.WriteLine($"create in batches of {BatchSize}: {report.BatchCreateRate:F0} posts/s");

        // 2. Burst: every post due at the same instant.
        var (burstAt, messagesBefore) = await LoadPhases.ScheduleBurstAsync(workload, "burst", options.BurstPosts, report.BatchCreateRate);
        log.WriteLine($"burst: {options.BurstPosts} posts due at {burstAt:HH:mm:ss.fff}");
        // Sampled from the due instant until the polls see the burst done: its CPU, not the creates' before it nor the
        // read of its messages after it.
        if (burstAt - DateTimeOffset.UtcNow is { Ticks: > 0 } untilDue)
        {
            await Task.Delay(untilDue);
        }
        await using var sampler = new ResourceSampler(SampledProcesses(system));
        var burst = await LoadPhases.AwaitBurstAsync(workload, "burst", options.BurstPosts, burstAt, messagesBefore,
            whenPublished: async () => report.BurstUsage = new PhaseUsage(await sampler.StopAsync(), sampler.MachineBusySeconds, sampler.ElapsedSeconds));
        report.BurstLateness = burst.Lateness;
        report.BurstReceived = burst.Received;
        report.BurstDistinct = burst.Distinct;
        report.BurstSeconds = burst.Seconds;
        log.WriteLine($"burst: all {options.BurstPosts} published and persisted {report.BurstSeconds:F2} s after the due instant; lateness {Distribution.Of(report.BurstLateness)}");

        // 3. Trickle: a steady rate of posts, each due at its own random instant.
        var trickle = await LoadPhases.TrickleAsync(workload, "trickle", options.TrickleRate, options.TrickleSeconds, report.BatchCreateRate, log);
        report.TrickleLateness = trickle.Lateness;
        report.TrickleReceived = trickle.Received;
        report.TrickleDistinct = trickle.Distinct;
        log.WriteLine($"trickle: lateness {Distribution.Of(report.TrickleLateness)}");

        // 4. Raw limits of the same servers, measured now (PostgreSQL's beside the creates, above).
        report.RedisZaddRate = await RawLimits.RedisZaddsPerSecondAsync(system, 32, 200_000);
        report.EmulatorRate = await RawLimits.EmulatorRequestsPerSecondAsync(system, 64, TimeSpan.FromSeconds(5));
        log.WriteLine($"raw: Redis {report.RedisZaddRate:F0} ZADD/s, emulator {report.EmulatorRate:F0} requests/s");

        // 5. The yardstick: BullMQ drains a burst of the same size on the same redis-server, SocialSync idle by now.
        log.WriteLine($"bullmq: {options.BurstPosts} delayed jobs due at one instant, a no-op worker of concurrency {BullMqBurst.Concurrency}, Redis database {BullMqBurst.Database}");
        report.BullMq = await BullMqBurst.RunAsync(system.Redis, options, log);
        log.WriteLine($"bullmq {report.BullMq.BullmqVersion}: {report.BullMq.Seconds:F2} s; SocialSync's burst {report.BurstSeconds:F2} s, ratio {report.BurstSeconds / report.BullMq.Seconds:F2}");
        return report;
    }

    /// <summary>
    /// The services (memory and CPU) and, for CPU alone, the servers beside them and this process (the benchmark's
    /// client): together they say where a phase's CPU went.
    /// </summary>
    private static List<SampledProcess> SampledProcesses(SocialSyncSystem system) =>
    [
        new("posts-service", system.Posts.ProcessId!.Value),
        new("scheduler-service", system.Schedulers[0].ProcessId!.Value),
        new("publisher-service", system.Publisher.ProcessId!.Value),
        new("PostgreSQL", system.Postgres.ProcessId!.Value, WithDescendants: true, PeakMemory: false),
        new("Redis", system.Redis.ProcessId!.Value, PeakMemory: false),
        new("emulator", system.Emulator.ProcessId!.Value, PeakMemory: false),
        new("benchmark client", Environment.ProcessId, PeakMemory: false),
    ];

    /// <summary>
    /// Runs every measured path at volume (unary and batch create, a burst published) until JIT tiering is done: with
    /// dynamic PGO a hot method is compiled three times (tier 0, instrumented, optimized), so one round is not enough.
    /// </summary>
    internal static async Task WarmUpAsync(Workload workload, BenchmarkOptions options, TextWriter log)
    {
        for (var round = 1; round <= WarmupRounds; round++)
        {
            var started = Stopwatch.GetTimestamp();
            var label = $"warmup{round}";
            var warmupAt = DateTimeOffset.UtcNow.AddSeconds(10);
            await workload.CreatePostsAsync(label, Enumerable.Repeat(warmupAt, options.WarmupPosts).ToList(), options.CreateConcurrency);
            await workload.CreatePostsBatchedAsync(label, Enumerable.Repeat(warmupAt, options.WarmupPosts).ToList(), 8, BatchSize);
            await WaitUntilAsync(async () => (await workload.PersistedAsync(label)).Published >= 2L * options.WarmupPosts, "the warm-up posts to be published",
                pollInterval: TimeSpan.FromMilliseconds(250));
            log.WriteLine($"warm-up round {round}: {2 * options.WarmupPosts} posts created and published in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        }
    }

    public const int WarmupRounds = 3;

    internal static async Task<long> UsedMemoryAsync(ConnectionMultiplexer redis, SocialSyncSystem system)
    {
        var info = await redis.GetServer(system.Redis.ConnectionString).InfoAsync("memory");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "used_memory").Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task WaitForIndexAsync(ConnectionMultiplexer redis, long atLeast)
    {
        // The scheduler's default keys (Scheduler:KeyPrefix = socialsync, all shards).
        await WaitUntilAsync(async () => await SchedulerIndex.LengthAsync(redis.GetDatabase()) >= atLeast, "the index to hold the created posts");
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? pollInterval = null)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > (timeout ?? CompletionTimeout))
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(50));
        }
    }
}
