using Npgsql;
using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>A scheduler stopped gracefully (SIGTERM) while it holds claims it has not handed over: it gives them back.</summary>
public sealed class GracefulStopTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private SocialSyncSystem _system = null!;

    public GracefulStopTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync() => _system = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            // A slow drain, so that the scheduler holds many claimed posts it has not handed over when it stops. The
            // lease stays at its default (2 min): nothing here waits for it.
            ["Scheduler__MaxConcurrentPublishCalls"] = "1",
            ["Scheduler__PublishBatchSize"] = "5",
        },
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task A_scheduler_stopped_gracefully_releases_its_unsent_claims_so_they_are_claimable_at_once()
    {
        var account = await TestAccount.CreateAsync(_system);
        await _system.Emulator.AddFaultAsync(new { match = new { account = account.PhoneNumberId }, delayMs = 100, times = 0 });
        var prefix = $"s{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(4);
        var posts = await account.CreatePostsAsync(prefix, 200, _ => due);
        var ids = posts.Select(p => p.Id).ToList();
        var scheduler = _system.Schedulers[0];

        await Polling.UntilAsync(() => Database.CountAsync(_system, ids, "published"), n => n >= 10, TimeSpan.FromSeconds(60), "the burst to start");
        await scheduler.StopAsync();

        // Every claim the scheduler had not handed over is queued again, with no lease: claimable now. What is still
        // publishing was handed over (its run started) and its publisher finishes it.
        var unsent = await ClaimedWithoutRunAsync(ids);
        var queued = await Database.CountAsync(_system, ids, "queued");
        _output.WriteLine($"after the stop: {queued} queued, {unsent} claimed without a run");
        Assert.Equal(0, unsent);
        Assert.True(queued > 0, "the burst finished before the stop; nothing to release");

        await scheduler.StartAsync();
        // Well inside the 2-minute lease the released claims would otherwise have waited for.
        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(60));
        Sends.AssertExactlyOnce(await account.SentAsync(), posts.Select((_, i) => $"{prefix}-{i}"));
    }

    /// <summary>Posts claimed (publishing) whose current attempt never reached a publisher (no run).</summary>
    private async Task<int> ClaimedWithoutRunAsync(IReadOnlyCollection<string> ids)
    {
        await using var connection = new NpgsqlConnection(_system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""
            select count(*) from scheduled_posts p
            where p.id = any(@ids) and p.status = 'publishing'
                and not exists (select 1 from post_runs r where r.scheduled_post_id = p.id and r.attempt = p.attempt)
            """, connection);
        query.Parameters.AddWithValue("ids", ids.Select(Guid.Parse).ToArray());
        return (int)(long)(await query.ExecuteScalarAsync())!;
    }
}
