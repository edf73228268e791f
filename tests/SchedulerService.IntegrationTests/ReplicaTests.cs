using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.SchedulerService.IntegrationTests;

[Collection(TwoSchedulersCollection.Name)]
public sealed class ReplicaTests(TwoSchedulersSystem fixture, ITestOutputHelper output)
{
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task Two_schedulers_dispatch_each_of_5000_due_posts_exactly_once()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"x{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(5);
        var ids = await account.InsertPostsAsync(prefix, 5000, due);
        Assert.True(DateTimeOffset.UtcNow < due, "the posts were not all in before their due time");

        var sent = await account.WaitForSentAsync(ids.Length, TimeSpan.FromSeconds(120));
        await Database.WaitForStatusAsync(System, ids, "published", TimeSpan.FromSeconds(60));

        Sends.AssertExactlyOnce(sent, ids.Select((_, i) => $"{prefix}-{i}"));
        var rows = await Database.PostsAsync(System, ids);
        // One claim per post: attempt 1 everywhere means no replica claimed a post the other had.
        Assert.All(rows.Values, r => Assert.Equal(1, r.Attempt));
        Assert.All(sent, m => Assert.True(m.Time >= due, $"{m.Text} sent before its time"));
        var perReplica = await Task.WhenAll(System.Schedulers.Select(async s =>
            (await new Scheduler.V1.SchedulerService.SchedulerServiceClient(Grpc.Net.Client.GrpcChannel.ForAddress(s.GrpcAddress))
                .GetIndexStatusAsync(new Scheduler.V1.GetIndexStatusRequest(), TestTokens.ForService())).DispatchedTotal));
        output.WriteLine($"last of 5000 sent {(sent.Max(m => m.Time) - due).TotalMilliseconds:F0} ms after due; dispatched per replica: {string.Join(", ", perReplica)}");
    }
}

/// <summary>A scheduler killed (kill -9) while it holds a burst of claims: the claims come back after the lease.</summary>
public sealed class KilledSchedulerTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private SocialSyncSystem _system = null!;

    public KilledSchedulerTests(ITestOutputHelper output) => _output = output;

    public async Task InitializeAsync() => _system = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        SchedulerReplicas = 2,
        Settings = new Dictionary<string, string?>
        {
            ["Scheduler__LeaseRecoveryInterval"] = "00:00:01",
            ["Retry__Lease"] = "00:00:05",
            // A slow drain, so that the killed replica still holds claimed posts it has not handed over.
            ["Scheduler__MaxConcurrentPublishCalls"] = "2",
            ["Scheduler__PublishBatchSize"] = "10",
        },
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    [Fact]
    public async Task The_claims_of_a_scheduler_killed_mid_burst_are_recovered_after_the_lease_and_sent_once()
    {
        var account = await TestAccount.CreateAsync(_system);
        await _system.Emulator.AddFaultAsync(new { match = new { account = account.PhoneNumberId }, delayMs = 100, times = 0 });
        var survivor = _system.Schedulers[1];
        var victim = _system.Schedulers[0];
        await survivor.StopAsync();

        var prefix = $"k{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(6);
        var posts = await account.CreatePostsAsync(prefix, 1000, _ => due);
        var ids = posts.Select(p => p.Id).ToList();

        await Polling.UntilAsync(() => Database.CountAsync(_system, ids, "published"), n => n >= 50, TimeSpan.FromSeconds(60), "the burst to start");
        victim.Kill();
        var publishedAtKill = await Database.CountAsync(_system, ids, "published");
        Assert.True(publishedAtKill < ids.Count, "the burst finished before the kill; nothing to recover");
        await survivor.StartAsync();

        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(90));
        var sent = await account.SentAsync();
        Sends.AssertExactlyOnce(sent, posts.Select((_, i) => $"{prefix}-{i}"));
        var rows = await Database.PostsAsync(_system, ids);
        var recovered = rows.Values.Count(r => r.Attempt > 1);
        Assert.True(recovered > 0, "no post was recovered from the killed scheduler's claims");
        _output.WriteLine($"{publishedAtKill} published at the kill; {recovered} recovered after the lease");
    }
}
