namespace SocialSync.Benchmarks;

/// <summary>What a burst or a trickle measured: lateness per message, messages received, distinct posts among them.</summary>
public sealed record PhaseResult(List<double> Lateness, int Received, int Distinct)
{
    /// <summary>Due instant → last published and persisted (a burst's figure; 0 for a trickle).</summary>
    public double Seconds { get; init; }
}

/// <summary>The burst and the trickle, as the benchmark (bench/report.md) and the million-post run (bench/million.md) drive them.</summary>
public static class LoadPhases
{
    private const int BatchSize = 100;

    /// <summary>
    /// Creates <paramref name="posts"/> posts due at one instant, far enough ahead for their creation at
    /// <paramref name="batchCreateRate"/> to finish first; returns that instant and the emulator's message count before it.
    /// </summary>
    public static async Task<(DateTimeOffset DueAt, long MessagesBefore)> ScheduleBurstAsync(Workload workload, string label, int posts, double batchCreateRate)
    {
        var createSeconds = posts / Math.Max(batchCreateRate, 100);
        var burstAt = DateTimeOffset.UtcNow.AddSeconds(createSeconds * 2 + 5);
        await workload.CreatePostsBatchedAsync(label, Enumerable.Repeat(burstAt, posts).ToList(), 8, BatchSize);
        return (burstAt, await workload.WhatsAppMessagesAsync());
    }

    /// <summary>
    /// Waits for a scheduled burst to be sent and persisted as published, and measures it. <paramref name="whenPublished"/>
    /// runs as soon as the polls see it done, before the burst's messages are read back (a read that costs CPU of its own).
    /// </summary>
    public static async Task<PhaseResult> AwaitBurstAsync(Workload workload, string label, int posts, DateTimeOffset burstAt, long messagesBefore,
        Func<Task>? whenPublished = null)
    {
        // The emulator's counter first, then PostgreSQL, slowly: that poll would take CPU from the burst it measures.
        // The burst's end is read from the rows, not from when a poll saw it.
        await BenchmarkRun.WaitUntilAsync(async () => await workload.WhatsAppMessagesAsync() >= messagesBefore + posts, "the burst to reach the emulator");
        await BenchmarkRun.WaitUntilAsync(async () => (await workload.PersistedAsync(label)).Published >= posts, "the burst to be published",
            pollInterval: TimeSpan.FromMilliseconds(250));
        if (whenPublished is not null)
        {
            await whenPublished();
        }
        var burst = await workload.ReceivedAsync(label);
        var (_, lastPersisted) = await workload.PersistedAsync(label);
        var lastReceived = burst.Max(r => r.Received);
        return new PhaseResult(burst.Select(r => (r.Received - r.Due).TotalMilliseconds).ToList(), burst.Count, burst.Select(r => r.Index).Distinct().Count())
        {
            Seconds = ((lastPersisted > lastReceived ? lastPersisted!.Value : lastReceived) - burstAt).TotalSeconds,
        };
    }

    /// <summary>A steady <paramref name="rate"/> of posts for <paramref name="seconds"/>, each due at its own random instant.</summary>
    public static async Task<PhaseResult> TrickleAsync(Workload workload, string label, int rate, int seconds, double batchCreateRate, TextWriter log)
    {
        var random = new Random(42);
        var total = rate * seconds;
        var trickleStart = DateTimeOffset.UtcNow.AddSeconds(total / Math.Max(batchCreateRate, 100) * 2 + 5);
        var dueTimes = Enumerable.Range(0, total)
            .Select(i => trickleStart.AddMilliseconds((i + random.NextDouble()) * 1000.0 / rate)).ToList();
        await workload.CreatePostsBatchedAsync(label, dueTimes, 8, BatchSize);
        log.WriteLine($"{label}: {total} posts at {rate}/s from {trickleStart:HH:mm:ss}");
        await BenchmarkRun.WaitUntilAsync(async () => (await workload.PersistedAsync(label)).Published >= total, $"the {label} to be published",
            TimeSpan.FromSeconds(seconds) + TimeSpan.FromMinutes(5));
        var trickle = await workload.ReceivedAsync(label);
        return new PhaseResult(trickle.Select(r => (r.Received - r.Due).TotalMilliseconds).ToList(), trickle.Count, trickle.Select(r => r.Index).Distinct().Count());
    }
}
