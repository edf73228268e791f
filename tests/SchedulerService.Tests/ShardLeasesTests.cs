using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SocialSync.SchedulerService.Scheduling;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Tests;

/// <summary>
/// Schedulers dividing the index's shards through leases in a real Redis (real time: the leases are Redis's PX and
/// its clock), each with its own connection as separate processes would have.
/// </summary>
public sealed class ShardLeasesTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(20);

    private readonly SchedulerOptions _options = new()
    {
        KeyPrefix = $"t{Guid.NewGuid():N}",
        ShardLease = TimeSpan.FromSeconds(2),
        ShardRenewInterval = TimeSpan.FromMilliseconds(200),
    };
    private readonly List<Scheduler> _schedulers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var scheduler in _schedulers)
        {
            await scheduler.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_schedulers_divide_the_shards_evenly_and_a_third_joining_gets_its_share()
    {
        var a = await StartAsync();
        await UntilAsync(() => a.Owned.Count == _options.ShardCount, "the first scheduler to own every shard");

        var b = await StartAsync();
        await UntilAsync(() => a.Owned.Count == 8 && b.Owned.Count == 8, "two schedulers to own half each");
        Assert.Empty(a.Owned.Intersect(b.Owned));

        var c = await StartAsync();
        await UntilAsync(() => new[] { a, b, c }.All(s => s.Owned.Count is 5 or 6) && Covered(a, b, c), "three schedulers to own a third each");
        AssertDisjoint(a, b, c);
    }

    [Fact]
    public async Task The_shards_of_a_scheduler_that_stops_pass_to_the_others_at_their_next_renewal()
    {
        var a = await StartAsync();
        var b = await StartAsync();
        await UntilAsync(() => a.Owned.Count == 8 && b.Owned.Count == 8, "two schedulers to own half each");

        await b.Leases.StopAsync(CancellationToken.None);
        var stoppedAt = DateTime.UtcNow;
        await UntilAsync(() => a.Owned.Count == _options.ShardCount, "the survivor to own every shard");

        // Given up at the stop: well before the lease (2 s) would have lapsed.
        Assert.True(DateTime.UtcNow - stoppedAt < _options.ShardLease, "the shards passed only after the stopped scheduler's lease lapsed");
    }

    [Fact]
    public async Task The_shards_of_a_crashed_scheduler_pass_to_the_others_once_its_lease_lapses()
    {
        var a = await StartAsync();
        var b = await StartAsync();
        await UntilAsync(() => a.Owned.Count == 8 && b.Owned.Count == 8, "two schedulers to own half each");

        // A crash: the connection goes first, so the stop can give nothing up.
        await b.Connection.CloseAsync(allowCommandsToComplete: false);
        await b.Leases.StopAsync(CancellationToken.None);
        await UntilAsync(() => a.Owned.Count == _options.ShardCount, "the survivor to own every shard");
    }

    private async Task<Scheduler> StartAsync()
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var owned = new OwnedShards();
        var index = new DispatchIndex(connection, Options.Create(_options));
        var leases = new ShardLeases(connection, index, owned, new WakeSignal(), new SchedulerState(TimeProvider.System), Options.Create(_options),
            TimeProvider.System, NullLogger<ShardLeases>.Instance);
        var scheduler = new Scheduler(connection, owned, leases);
        _schedulers.Add(scheduler);
        await leases.StartAsync(CancellationToken.None);
        return scheduler;
    }

    private bool Covered(params Scheduler[] schedulers) =>
        schedulers.SelectMany(s => s.Owned).Distinct().Count() == _options.ShardCount;

    private static void AssertDisjoint(params Scheduler[] schedulers) =>
        Assert.Equal(schedulers.Sum(s => s.Owned.Count), schedulers.SelectMany(s => s.Owned).Distinct().Count());

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Eventually);
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, $"timed out waiting for {what}");
            await Task.Delay(20, CancellationToken.None);
        }
    }

    private sealed record Scheduler(ConnectionMultiplexer Connection, OwnedShards Shards, ShardLeases Leases) : IAsyncDisposable
    {
        public IReadOnlyList<int> Owned => Shards.Current;

        public async ValueTask DisposeAsync()
        {
            await Leases.StopAsync(CancellationToken.None);
            await Connection.DisposeAsync();
        }
    }
}
