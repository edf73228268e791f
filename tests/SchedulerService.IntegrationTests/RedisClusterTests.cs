using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>
/// The scheduler on a real Redis Cluster (3 masters, 1 replica each, on loopback ports), the same code as on one
/// Redis: the index's shards spread over the masters, every script's keys in one slot.
/// </summary>
public sealed class RedisClusterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SocialSyncSystem _system = null!;

    public async Task InitializeAsync() => _system = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        RedisCluster = true,
        SchedulerReplicas = 2,
    });

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private RedisCluster Cluster => _system.Cluster!;

    [Fact]
    public async Task Every_key_of_a_shard_lies_in_one_slot_and_the_shards_spread_over_every_master()
    {
        var masters = (await Cluster.NodesAsync()).Where(n => n.IsMaster).ToList();
        var mastersUsed = new HashSet<int>();
        foreach (var shard in SchedulerIndex.Shards)
        {
            var tag = $"socialsync:{{shard-{shard}}}";
            var slots = new HashSet<int>();
            foreach (var key in new[] { ":schedule", ":complete", ":rebuilding", ":owner", ":v:5b0c6a2e-0000-4000-8000-000000000001", ":v:other" })
            {
                slots.Add(await Cluster.SlotOfAsync(tag + key));
            }
            Assert.Single(slots);
            mastersUsed.Add(masters.Single(m => m.Serves(slots.Single())).Port);
        }
        Assert.Equal(masters.Count, mastersUsed.Count);
    }

    [Fact]
    public async Task Two_schedulers_on_a_cluster_dispatch_each_of_2000_due_posts_exactly_once_and_share_the_work()
    {
        var account = await TestAccount.CreateAsync(_system);
        var prefix = $"c{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(6);
        var ids = await account.InsertPostsAsync(prefix, 2000, due);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(_system, ids), n => n == ids.Length, TimeSpan.FromSeconds(30), "the posts to be indexed");
        Assert.True(DateTimeOffset.UtcNow < due, "the posts were not all indexed before their due time");

        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(120));
        var sent = await account.SentAsync();
        Sends.AssertExactlyOnce(sent, ids.Select((_, i) => $"{prefix}-{i}"));
        var rows = await Database.PostsAsync(_system, ids);
        Assert.All(rows.Values, r => Assert.Equal(1, r.Attempt));
        Assert.All(sent, m => Assert.True(m.Time >= due, $"{m.Text} sent before its time"));
        // Each scheduler dispatched the posts of its own shards.
        var perReplica = await DispatchedPerReplicaAsync();
        Assert.All(perReplica, n => Assert.True(n > 0, $"a scheduler dispatched nothing: {string.Join(", ", perReplica)}"));
        output.WriteLine($"last of 2000 sent {(sent.Max(m => m.Time) - due).TotalMilliseconds:F0} ms after due; dispatched per replica: {string.Join(", ", perReplica)}");
    }

    [Fact]
    public async Task A_master_killed_mid_burst_is_replaced_by_its_replica_and_no_post_is_lost_or_sent_twice()
    {
        var account = await TestAccount.CreateAsync(_system);
        var prefix = $"m{Guid.NewGuid():N}"[..12];
        // The lead leaves room for inserting and indexing 3000 posts while other suites share the cores: when that took
        // longer than the lead and the burst together, every post was overdue at once and published before the kill.
        var start = DateTimeOffset.UtcNow.AddSeconds(20);
        var spacing = TimeSpan.FromMilliseconds(4);
        // 3000 posts, one due every 4 ms for 12 s: the index is being read and written on every master when one dies.
        var ids = await account.InsertPostsAsync(prefix, 3000, start, spacing);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(_system, ids), n => n == ids.Length, TimeSpan.FromSeconds(60), "the posts to be indexed");

        await Polling.UntilAsync(() => Database.CountAsync(_system, ids, "published"), n => n >= 300, TimeSpan.FromSeconds(60), "the burst to start");
        var slot = await Cluster.SlotOfAsync("socialsync:{shard-0}:schedule");
        var before = await Cluster.NodesAsync();
        var killed = await Cluster.KillMasterOfAsync(slot);
        var publishedAtKill = await Database.CountAsync(_system, ids, "published");
        Assert.True(publishedAtKill < ids.Length, "the burst finished before the kill");

        var promoted = await Cluster.WaitForFailoverAsync(killed, TimeSpan.FromSeconds(60));
        Assert.Contains(promoted.Port, before.Where(n => n.MasterId == killed.Id).Select(n => n.Port));

        await Database.WaitForStatusAsync(_system, ids, "published", TimeSpan.FromSeconds(120));
        var sent = await account.SentAsync();
        Sends.AssertExactlyOnce(sent, ids.Select((_, i) => $"{prefix}-{i}"));
        var byText = Sends.ByText(sent);
        Assert.All(ids.Select((_, i) => i), i => Assert.True(byText[$"{prefix}-{i}"][0].Time >= start + i * spacing, $"{prefix}-{i} sent before its time"));

        // The index keeps working on the promoted replica: a new post is indexed (not only found by the safety net).
        var later = await account.CreatePostAsync($"{prefix}-after", DateTimeOffset.UtcNow.AddMinutes(10));
        await Polling.UntilAsync(() => Index.IndexedCountAsync(_system, [later.Id]), n => n == 1, TimeSpan.FromSeconds(30), "a post created after the failover to be indexed");
        var rows = await Database.PostsAsync(_system, ids);
        output.WriteLine($"{publishedAtKill} of {ids.Length} published at the kill of the master on {killed.Port}; its replica on {promoted.Port} took over; "
            + $"worst claim lateness {rows.Values.Max(r => r.DispatchLateMs)} ms");
    }

    private async Task<long[]> DispatchedPerReplicaAsync() => await Task.WhenAll(_system.Schedulers.Select(async s =>
        (await new Scheduler.V1.SchedulerService.SchedulerServiceClient(Grpc.Net.Client.GrpcChannel.ForAddress(s.GrpcAddress))
            .GetIndexStatusAsync(new Scheduler.V1.GetIndexStatusRequest(), TestTokens.ForService())).DispatchedTotal));
}
