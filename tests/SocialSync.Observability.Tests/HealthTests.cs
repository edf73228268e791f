using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.Observability.Tests;

/// <summary>
/// Readiness (/health) tells the truth: it fails when a dependency is unreachable or a loop stops making
/// progress, and recovers when the cause goes away. Each test runs its own system with a short stall limit.
/// </summary>
public sealed class HealthTests
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(45);

    private static Task<SocialSyncSystem> StartAsync() => SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Health__StallLimit"] = "00:00:13",
            ["Health__OutboxStallLimit"] = "00:00:03",
        },
    });

    [Fact]
    public async Task Scheduler_is_unhealthy_while_Redis_is_down_and_healthy_again_when_it_is_back()
    {
        await using var system = await StartAsync();
        var scheduler = system.Schedulers[0];
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(scheduler)).Status);

        await system.Redis.StopAsync(crash: true);
        var down = await UntilAsync(scheduler, h => h.Status == HttpStatusCode.ServiceUnavailable, "the scheduler to report Redis down");
        Assert.Contains("Redis is unreachable", down.Body, StringComparison.Ordinal);

        await system.Redis.RestartAsync();
        await UntilAsync(scheduler, h => h.Status == HttpStatusCode.OK, "the scheduler to recover with Redis");
    }

    [Fact]
    public async Task PostsService_is_unhealthy_while_PostgreSQL_is_down()
    {
        await using var system = await StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(system.Posts)).Status);

        // (Not restarted here: PostgresServer.RestartAsync fails while the old postmaster's lock file is held.)
        await system.Postgres.StopAsync(crash: true);
        var down = await UntilAsync(system.Posts, h => h.Status == HttpStatusCode.ServiceUnavailable, "posts-service to report PostgreSQL down");
        Assert.Contains("PostgreSQL is unreachable", down.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduler_is_unhealthy_when_its_dispatch_loop_stops_making_progress()
    {
        await using var system = await StartAsync();
        var scheduler = system.Schedulers[0];
        var (posts, auth, channelId) = await ChannelAsync(system);

        // A post in the index, then PostsService gone: every claim the loop attempts fails, so it makes no progress.
        // Due far enough ahead that PostsService is gone before it comes due, even on a loaded machine (due sooner,
        // it was sometimes published first, and the loop then had nothing to fail on).
        var post = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channelId,
            Content = new Content { Text = "due while PostsService is down" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(10)),
        }, auth);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(system.Redis.ConnectionString))
        {
            await Polling.UntilAsync(async () => await SchedulerIndex.IndexedAsync(redis.GetDatabase()),
                indexed => indexed.Contains(post.Id), Eventually, "the post to be indexed");
        }
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(scheduler)).Status);
        system.Posts.Kill();

        // The relay (which also calls PostsService) is reported stuck too, possibly first: wait for the dispatch loop.
        var stalled = await UntilAsync(scheduler, h => h.Body.Contains("dispatch loop has made no progress", StringComparison.Ordinal),
            "the scheduler to report no dispatch progress");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stalled.Status);
        Assert.DoesNotContain("Redis is unreachable", stalled.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scheduler_is_unhealthy_and_PostsService_degraded_when_the_outbox_relay_is_stuck()
    {
        await using var system = await StartAsync();
        var scheduler = system.Schedulers[0];
        var (posts, auth, channelId) = await ChannelAsync(system);
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(scheduler)).Status);

        // Redis answers (PING, reads) but refuses writes (out of memory): the relay can pull changes but never index
        // and acknowledge them, while the dispatch loop keeps reading the index.
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},allowAdmin=true");
        var server = redis.GetServer(system.Redis.ConnectionString);
        await server.ConfigSetAsync("maxmemory-policy", "noeviction");
        await server.ConfigSetAsync("maxmemory", "1");
        var post = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channelId,
            Content = new Content { Text = "waits in the outbox" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(10)),
        }, auth);

        var stuck = await UntilAsync(scheduler, h => h.Status == HttpStatusCode.ServiceUnavailable, "the scheduler to report a stuck relay");
        Assert.Contains("outbox relay is stuck", stuck.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("dispatch loop", stuck.Body, StringComparison.Ordinal);
        var posts503 = await UntilAsync(system.Posts, h => h.Body.Contains("Degraded", StringComparison.Ordinal), "posts-service to report the outbox backlog");
        Assert.Equal(HttpStatusCode.OK, posts503.Status);

        await server.ConfigSetAsync("maxmemory", "0");
        await UntilAsync(scheduler, h => h.Status == HttpStatusCode.OK, "the scheduler to recover once Redis takes writes");
        Assert.Contains(post.Id, await SchedulerIndex.IndexedAsync(redis.GetDatabase()));
    }

    private static async Task<(PostService.PostServiceClient Posts, Grpc.Core.Metadata Auth, string ChannelId)> ChannelAsync(SocialSyncSystem system)
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var channel = await system.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = $"pn-{Guid.NewGuid():N}"[..16],
            AccessToken = "EAAG-health",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);
        return (system.PostClient, auth, channel.Id);
    }

    private sealed record Health(HttpStatusCode Status, string Body);

    private static async Task<Health> HealthAsync(ServiceProcess service)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri(service.HttpAddress, "/health"));
        var body = await response.Content.ReadAsStringAsync();
        using var _ = JsonDocument.Parse(body); // the report is JSON
        return new Health(response.StatusCode, body);
    }

    private static Task<Health> UntilAsync(ServiceProcess service, Func<Health, bool> done, string what) =>
        Polling.UntilAsync(() => HealthAsync(service), done, Eventually, what);
}
