using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>
/// Measurements, not pass/fail goals: run with SOCIALSYNC_BENCH=1 and read the output. PostgreSQL is durable
/// (fsync on), as in production.
/// </summary>
public sealed class BurstBenchmarks : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private SocialSyncSystem _system = null!;

    public BurstBenchmarks(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync() => _system = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        DurablePostgres = true,
        SchedulerReplicas = int.TryParse(Environment.GetEnvironmentVariable("SOCIALSYNC_BENCH_SCHEDULERS"), out var n) ? n : 1,
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [BenchmarkFact]
    public async Task Burst_of_10000_posts_due_at_one_instant()
    {
        const int count = 10_000;
        var account = await TestAccount.CreateAsync(_system);
        var prefix = $"b{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(8);
        var ids = await account.InsertPostsAsync(prefix, count, due);
        Assert.True(DateTimeOffset.UtcNow < due.AddSeconds(-3), "inserting the posts took too long to measure the burst");
        await Polling.UntilAsync(() => Index.IndexedCountAsync(_system, ids), c => c == count, TimeSpan.FromSeconds(30), "the burst to be indexed");

        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(120));
        var sent = await account.SentAsync();
        Sends.AssertExactlyOnce(sent, ids.Select((_, i) => $"{prefix}-{i}"));
        var rows = await Database.PostsAsync(_system, ids);

        var claimLate = rows.Values.Select(r => (double)r.DispatchLateMs!.Value).Order().ToList();
        var sendLate = sent.Select(m => (m.Time - due).TotalMilliseconds).Order().ToList();
        var publishedLate = rows.Values.Select(r => (r.PublishedAt!.Value - due).TotalMilliseconds).Order().ToList();
        _output.WriteLine($"{count} posts due at one instant, {_system.Schedulers.Count} scheduler(s):");
        _output.WriteLine($"  all claimed by      +{claimLate[^1]:F0} ms (p50 {Percentile(claimLate, 0.5):F0} ms)");
        _output.WriteLine($"  all sent (platform) +{sendLate[^1]:F0} ms (p50 {Percentile(sendLate, 0.5):F0} ms)");
        _output.WriteLine($"  all recorded published +{publishedLate[^1]:F0} ms");
    }

    [BenchmarkFact]
    public async Task Trickle_lateness()
    {
        const int count = 300;
        var account = await TestAccount.CreateAsync(_system);
        var prefix = $"t{Guid.NewGuid():N}"[..12];
        var start = DateTimeOffset.UtcNow.AddSeconds(10);
        // One post every 50 ms for 15 s.
        var posts = await account.CreatePostsAsync(prefix, count, i => start.AddMilliseconds(50 * i));
        var ids = posts.Select(p => p.Id).ToList();

        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(90));
        var sent = await account.SentAsync();
        Sends.AssertExactlyOnce(sent, posts.Select((_, i) => $"{prefix}-{i}"));
        var byText = Sends.ByText(sent);
        var rows = await Database.PostsAsync(_system, ids);
        var claimLate = rows.Values.Select(r => (double)r.DispatchLateMs!.Value).Order().ToList();
        var sendLate = posts.Select((p, i) => (byText[$"{prefix}-{i}"][0].Time - start.AddMilliseconds(50 * i)).TotalMilliseconds).Order().ToList();
        _output.WriteLine($"trickle of {count} posts, one every 50 ms:");
        _output.WriteLine($"  claim lateness p50 {Percentile(claimLate, 0.5):F0} ms, p99 {Percentile(claimLate, 0.99):F0} ms, max {claimLate[^1]:F0} ms");
        _output.WriteLine($"  send lateness  p50 {Percentile(sendLate, 0.5):F0} ms, p99 {Percentile(sendLate, 0.99):F0} ms, max {sendLate[^1]:F0} ms");
    }

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];
}
