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
        var memoryBefore = await UsedMemoryAsync(redis, system);
        var farAhead = DateTimeOffset.UtcNow.AddDays(7);
        report.CreateRate = await workload.CreatePostsAsync("create", Enumerable.Range(0, options.CreatePosts).Select(i => farAhead.AddMilliseconds(i)).ToList(), options.CreateConcurrency);
        await WaitForIndexAsync(redis, options.CreatePosts);
        report.RedisBytesPerPost = (await UsedMemoryAsync(redis, system) - memoryBefore) / (double)options.CreatePosts;
        log.WriteLine($"create: {report.CreateRate:F0} posts/s; Redis {report.RedisBytesPerPost:F0} bytes per indexed post");
        report.BatchCreateRate = await workload.CreatePostsBatchedAsync("batch", Enumerable.Range(0, options.CreatePosts).Select(i => farAhead.AddMilliseconds(i)).ToList(),
            Math.Min(options.CreateConcurrency, 8), BatchSize);
        log.WriteLine($"create in batches of {BatchSize}: {report.BatchCreateRate:F0} posts/s");

        // 2. Burst: every post due at the same instant.
        var createSeconds = options.BurstPosts / Math.Max(report.BatchCreateRate, 100);
        var burstAt = DateTimeOffset.UtcNow.AddSeconds(createSeconds * 2 + 5);
        await workload.CreatePostsBatchedAsync("burst", Enumerable.Repeat(burstAt, options.BurstPosts).ToList(), 8, BatchSize);
        var messagesBefore = await workload.WhatsAppMessagesAsync();
        log.WriteLine($"burst: {options.BurstPosts} posts due at {burstAt:HH:mm:ss.fff}");
        var sampler = new ResourceSampler(new Dictionary<string, int>
        {
            ["posts-service"] = system.Posts.ProcessId!.Value,
            ["scheduler-service"] = system.Schedulers[0].ProcessId!.Value,
            ["publisher-service"] = system.Publisher.ProcessId!.Value,
        });
        // The emulator's counter first, then PostgreSQL, slowly: that poll scans the table, and would take CPU from the
        // burst it measures. The burst's end is read from the rows, not from when a poll saw it.
        await WaitUntilAsync(async () => await workload.WhatsAppMessagesAsync() >= messagesBefore + options.BurstPosts, "the burst to reach the emulator");
        await WaitUntilAsync(async () => (await workload.PersistedAsync("burst")).Published >= options.BurstPosts, "the burst to be published",
            pollInterval: TimeSpan.FromMilliseconds(250));
        report.Resources = await sampler.StopAsync();
        var burst = await workload.ReceivedAsync("burst");
        var (_, lastPersisted) = await workload.PersistedAsync("burst");
        report.BurstLateness = burst.Select(r => (r.Received - r.Due).TotalMilliseconds).ToList();
        report.BurstReceived = burst.Count;
        report.BurstDistinct = burst.Select(r => r.Index).Distinct().Count();
        var lastReceived = burst.Max(r => r.Received);
        report.BurstSeconds = ((lastPersisted > lastReceived ? lastPersisted!.Value : lastReceived) - burstAt).TotalSeconds;
        log.WriteLine($"burst: all {options.BurstPosts} published and persisted {report.BurstSeconds:F2} s after the due instant; lateness {Distribution.Of(report.BurstLateness)}");

        // 3. Trickle: a steady rate of posts, each due at its own random instant.
        var random = new Random(42);
        var total = options.TrickleRate * options.TrickleSeconds;
        var trickleStart = DateTimeOffset.UtcNow.AddSeconds(total / Math.Max(report.BatchCreateRate, 100) * 2 + 5);
        var dueTimes = Enumerable.Range(0, total)
            .Select(i => trickleStart.AddMilliseconds((i + random.NextDouble()) * 1000.0 / options.TrickleRate)).ToList();
        await workload.CreatePostsBatchedAsync("trickle", dueTimes, 8, BatchSize);
        log.WriteLine($"trickle: {total} posts at {options.TrickleRate}/s from {trickleStart:HH:mm:ss}");
        await WaitUntilAsync(async () => (await workload.PersistedAsync("trickle")).Published >= total, "the trickle to be published",
            TimeSpan.FromSeconds(options.TrickleSeconds) + CompletionTimeout);
        var trickle = await workload.ReceivedAsync("trickle");
        report.TrickleLateness = trickle.Select(r => (r.Received - r.Due).TotalMilliseconds).ToList();
        report.TrickleReceived = trickle.Count;
        report.TrickleDistinct = trickle.Select(r => r.Index).Distinct().Count();
        log.WriteLine($"trickle: lateness {Distribution.Of(report.TrickleLateness)}");

        // 4. Raw limits of the same servers, measured now.
        report.PostgresInsertRate = await RawLimits.PostgresInsertsPerSecondAsync(system, options.CreateConcurrency, 10);
        report.RedisZaddRate = await RawLimits.RedisZaddsPerSecondAsync(system, 32, 200_000);
        report.EmulatorRate = await RawLimits.EmulatorRequestsPerSecondAsync(system, 64, TimeSpan.FromSeconds(5));
        log.WriteLine($"raw: PostgreSQL {report.PostgresInsertRate:F0} single-row INSERT commits/s, Redis {report.RedisZaddRate:F0} ZADD/s, emulator {report.EmulatorRate:F0} requests/s");

        // 5. The yardstick: BullMQ drains a burst of the same size on the same redis-server, SocialSync idle by now.
        log.WriteLine($"bullmq: {options.BurstPosts} delayed jobs due at one instant, a no-op worker of concurrency {BullMqBurst.Concurrency}, Redis database {BullMqBurst.Database}");
        report.BullMq = await BullMqBurst.RunAsync(system.Redis, options, log);
        log.WriteLine($"bullmq {report.BullMq.BullmqVersion}: {report.BullMq.Seconds:F2} s; SocialSync's burst {report.BurstSeconds:F2} s, ratio {report.BurstSeconds / report.BullMq.Seconds:F2}");
        return report;
    }

    /// <summary>
    /// Runs every measured path at volume (unary and batch create, a burst published) until JIT tiering is done: with
    /// dynamic PGO a hot method is compiled three times (tier 0, instrumented, optimized), so one round is not enough.
    /// </summary>
    private static async Task WarmUpAsync(Workload workload, BenchmarkOptions options, TextWriter log)
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

    private static async Task<long> UsedMemoryAsync(ConnectionMultiplexer redis, SocialSyncSystem system)
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
