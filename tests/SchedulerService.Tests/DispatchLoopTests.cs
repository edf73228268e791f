using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SocialSync.Posts.V1;
using SocialSync.SchedulerService.Scheduling;
using SocialSync.SchedulerService.Telemetry;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Tests;

/// <summary>One real Redis for the loop tests; each test uses its own key prefix.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Server { get; private set; } = null!;
    public IConnectionMultiplexer Connection { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await RedisServer.StartAsync();
        Connection = await ConnectionMultiplexer.ConnectAsync(Server.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// The dispatch loop on a fake clock: the index is a real Redis sorted set, PostsService is a stand-in that claims
/// what is due by the same fake clock and records when each claim happened.
/// </summary>
public sealed class DispatchLoopTests(RedisFixture redis) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(20);

    private readonly FakeTimeProvider _time = new(T0);
    private readonly SchedulerOptions _options = new() { KeyPrefix = $"t{Guid.NewGuid():N}", MaxIdleWait = TimeSpan.FromHours(1) };
    private readonly WakeSignal _wake = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private FakePosts _posts = null!;
    private SchedulerState _state = null!;
    private DispatchIndex _index = null!;
    private Claimer _claimer = null!;
    private DispatchLoop _loop = null!;

    public Task InitializeAsync()
    {
        _posts = new FakePosts(_time);
        _state = new SchedulerState(_time);
        _index = new DispatchIndex(redis.Connection, Options.Create(_options));
        var dispatcher = new PublishDispatcher(_posts, new UnusedPublisher(), Options.Create(_options), _state, _time, NullLogger<PublishDispatcher>.Instance);
        var metrics = new SchedulerMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), _index, _state, _services,
            new ConfigurationBuilder().Build(), _time, NullLogger<SchedulerMetrics>.Instance);
        _claimer = new Claimer(_posts, dispatcher, metrics, Options.Create(_options), _time);
        _loop = NewLoop(new OwnedShards(_index.Keys.AllShards));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _loop.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Wakes_at_each_due_time_in_due_order_and_claims_nothing_in_between()
    {
        await ScheduleAsync("a", T0.AddSeconds(3));
        await ScheduleAsync("b", T0.AddSeconds(1));
        await ScheduleAsync("c", T0.AddSeconds(2));
        await StartAndParkAsync();
        Assert.Empty(_posts.Claims);

        for (var second = 1; second <= 3; second++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await WaitForClaimsAsync(second);
        }

        Assert.Equal(new[] { ("b", T0.AddSeconds(1)), ("c", T0.AddSeconds(2)), ("a", T0.AddSeconds(3)) }, _posts.Claims.ToArray());
        Assert.Equal(3, _posts.ClaimCalls);
    }

    [Fact]
    public async Task A_post_due_within_the_same_second_is_claimed_at_its_millisecond()
    {
        await ScheduleAsync("p", T0.AddMilliseconds(1234.5));
        await StartAndParkAsync();

        _time.Advance(TimeSpan.FromMilliseconds(1234));
        var passes = _state.DispatchPasses;
        _wake.Pulse();
        await WaitForPassesAsync(passes + 1);
        Assert.Equal(0, _posts.ClaimCalls);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForClaimsAsync(1);
        // Scores round up to the millisecond: never before the due time, at most a millisecond after it.
        Assert.Equal(T0.AddMilliseconds(1235), _posts.Claims.Single().At);
    }

    [Fact]
    public async Task An_earlier_post_arriving_while_the_loop_sleeps_wakes_it_early()
    {
        await ScheduleAsync("late", T0.AddMinutes(30));
        await StartAndParkAsync();
        var passes = _state.DispatchPasses;

        // What the outbox relay does for a new post: index it, then pulse.
        await ScheduleAsync("early", T0.AddSeconds(2));
        _wake.Pulse();
        await WaitForPassesAsync(passes + 1);
        _time.Advance(TimeSpan.FromSeconds(2));
        await WaitForClaimsAsync(1);

        Assert.Equal(("early", T0.AddSeconds(2)), _posts.Claims.Single());
    }

    [Fact]
    public async Task A_wake_up_published_by_another_replica_wakes_the_loop()
    {
        await ScheduleAsync("late", T0.AddMinutes(30));
        var subscription = new WakeSubscription(redis.Connection, _index, _wake, TimeProvider.System, NullLogger<WakeSubscription>.Instance);
        await subscription.StartAsync(CancellationToken.None);
        await subscription.Subscribed.WaitAsync(TimeSpan.FromSeconds(30));
        await StartAndParkAsync();
        var passes = _state.DispatchPasses;

        // Another replica's relay indexes an earlier post and publishes the wake-up on Redis.
        await using var other = await ConnectionMultiplexer.ConnectAsync(redis.Server.ConnectionString);
        var otherIndex = new DispatchIndex(other, Options.Create(_options));
        await ScheduleAsync("early", T0.AddSeconds(1), otherIndex);
        await otherIndex.PublishWakeAsync();
        await WaitForPassesAsync(passes + 1);
        _time.Advance(TimeSpan.FromSeconds(1));
        await WaitForClaimsAsync(1);

        Assert.Equal(("early", T0.AddSeconds(1)), _posts.Claims.Single());
    }

    [Fact]
    public async Task A_pulse_before_the_due_time_does_not_claim_early()
    {
        await ScheduleAsync("p", T0.AddSeconds(1));
        await StartAndParkAsync();

        _time.Advance(TimeSpan.FromMilliseconds(999));
        var passes = _state.DispatchPasses;
        _wake.Pulse();
        await WaitForPassesAsync(passes + 1);
        Assert.Empty(_posts.Claims);
        Assert.Equal(0, _posts.ClaimCalls);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitForClaimsAsync(1);
        Assert.Equal(T0.AddSeconds(1), _posts.Claims.Single().At);
    }

    [Fact]
    public async Task A_stale_remove_applied_after_a_newer_upsert_does_not_hide_the_post()
    {
        // Two relays read the same post at versions 3 (publishing: remove) and 4 (re-queued for a retry) and
        // apply in the wrong order.
        await _index.ApplyAsync([IndexEntry.Upsert("p", 4, T0.AddMinutes(5))]);
        await _index.ApplyAsync([IndexEntry.Remove("p", 3)]);
        Assert.Equal(T0.AddMinutes(5), await _index.EarliestAsync(_index.Keys.AllShards));

        await _index.ApplyAsync([IndexEntry.Remove("p", 5)]);
        Assert.Null(await _index.EarliestAsync(_index.Keys.AllShards));
    }

    [Fact]
    public async Task A_rebuild_interrupted_by_a_flush_does_not_mark_the_index_complete()
    {
        var all = _index.Keys.AllShards;
        await _index.BeginRebuildAsync(all, "r1");
        await _index.ApplyAsync([IndexEntry.Upsert("p", 1, T0)]);
        // As FLUSHALL does (on every node of a cluster).
        await Task.WhenAll(all.Select(s => redis.Connection.GetDatabase().KeyDeleteAsync(_index.Keys.Rebuilding(s))));

        Assert.Equal(all, await _index.CompleteRebuildAsync(all, "r1"));
        Assert.Equal(all, await _index.IncompleteAsync(all));

        await _index.BeginRebuildAsync(all, "r2");
        Assert.Empty(await _index.CompleteRebuildAsync(all, "r2"));
        Assert.Empty(await _index.IncompleteAsync(all));
    }

    [Fact]
    public async Task A_flush_of_one_shard_during_a_rebuild_leaves_only_that_shard_incomplete()
    {
        var all = _index.Keys.AllShards;
        await _index.BeginRebuildAsync(all, "r1");
        // One node of a cluster restarted empty: only the shards in its slots lose their keys.
        await redis.Connection.GetDatabase().KeyDeleteAsync(_index.Keys.Rebuilding(3));

        Assert.Equal(new[] { 3 }, await _index.CompleteRebuildAsync(all, "r1"));
        Assert.Equal(new[] { 3 }, await _index.IncompleteAsync(all));
    }

    [Fact]
    public async Task Posts_are_spread_over_the_shards_and_a_loop_claims_only_those_of_the_shards_it_owns()
    {
        var ids = Enumerable.Range(0, 64).Select(i => $"post-{i}").ToList();
        foreach (var id in ids)
        {
            await ScheduleAsync(id, T0.AddSeconds(1));
        }
        var shardOf = ids.ToDictionary(id => id, _index.Keys.ShardOf);
        Assert.True(shardOf.Values.Distinct().Count() > _options.ShardCount / 2, "64 posts fell in fewer than half of the shards");
        var mine = new[] { shardOf[ids[0]] };
        var loop = NewLoop(new OwnedShards(mine));

        _time.Advance(TimeSpan.FromSeconds(1));
        var expected = ids.Where(id => shardOf[id] == mine[0]).ToList();
        var passes = _state.DispatchPasses;
        await loop.StartAsync(CancellationToken.None);
        try
        {
            // The pass that claims ends when every owned shard has nothing due left.
            await WaitForPassesAsync(passes + 1);
        }
        finally
        {
            await loop.StopAsync(CancellationToken.None);
        }

        Assert.Equal(expected.Order(), _posts.Claims.Select(c => c.PostId).Order());
    }

    private DispatchLoop NewLoop(OwnedShards shards) =>
        new(_index, shards, _claimer, _wake, _state, Options.Create(_options), _time, NullLogger<DispatchLoop>.Instance);

    private async Task ScheduleAsync(string id, DateTimeOffset due, DispatchIndex? index = null)
    {
        _posts.Queued[id] = due;
        await (index ?? _index).ApplyAsync([IndexEntry.Upsert(id, 1, due)]);
    }

    private async Task StartAndParkAsync()
    {
        await _loop.StartAsync(CancellationToken.None);
        await WaitForPassesAsync(1);
    }

    private Task WaitForPassesAsync(long passes) => Until(() => _state.DispatchPasses >= passes, $"{passes} dispatch passes");

    private Task WaitForClaimsAsync(int count) => Until(() => _posts.Claims.Count >= count, $"{count} claims");

    private static async Task Until(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Eventually);
        while (!condition())
        {
            Assert.False(timeout.IsCancellationRequested, $"timed out waiting for {what}");
            await Task.Yield();
            await Task.Delay(1, CancellationToken.None);
        }
    }

    /// <summary>PostsService's claim, by the fake clock: due posts are claimed, others are reported not due.</summary>
    private sealed class FakePosts(TimeProvider time) : PostsInternalService.PostsInternalServiceClient
    {
        private int _claimCalls;

        public ConcurrentDictionary<string, DateTimeOffset> Queued { get; } = new();
        public ConcurrentQueue<(string PostId, DateTimeOffset At)> Claims { get; } = new();
        public int ClaimCalls => Volatile.Read(ref _claimCalls);

        public override AsyncUnaryCall<ClaimDuePostsResponse> ClaimDuePostsAsync(ClaimDuePostsRequest request, CallOptions options)
        {
            Interlocked.Increment(ref _claimCalls);
            var now = time.GetUtcNow();
            var response = new ClaimDuePostsResponse { LeaseExpiresAt = Timestamp.FromDateTimeOffset(now.AddMinutes(2)) };
            foreach (var id in request.PostIds)
            {
                if (!Queued.TryGetValue(id, out var due))
                {
                    response.Settled.Add(new SettledPost { PostId = id, Version = 0 });
                }
                else if (due > now)
                {
                    response.NotDue.Add(new QueuedPost { PostId = id, DueAt = Timestamp.FromDateTimeOffset(due), Version = 1 });
                }
                else
                {
                    Queued.TryRemove(id, out _);
                    Claims.Enqueue((id, now));
                    response.Claimed.Add(new ClaimedPost { PostId = id, Attempt = 1 });
                    response.Settled.Add(new SettledPost { PostId = id, Version = 2 });
                }
            }
            return new AsyncUnaryCall<ClaimDuePostsResponse>(Task.FromResult(response), Task.FromResult(new Metadata()),
                () => Status.DefaultSuccess, () => new Metadata(), () => { });
        }
    }

    private sealed class UnusedPublisher : Publisher.V1.PublisherService.PublisherServiceClient;
}
