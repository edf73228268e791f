extern alias posts;
extern alias testing;

using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using ClaimDuePostsRequest = posts::SocialSync.Posts.V1.ClaimDuePostsRequest;
using ClaimDuePostsResponse = posts::SocialSync.Posts.V1.ClaimDuePostsResponse;
using ClaimStore = posts::SocialSync.PostsService.Data.ClaimStore;
using MigrationRunner = posts::SocialSync.PostsService.Data.MigrationRunner;
using PostgresServer = testing::SocialSync.Testing.PostgresServer;
using PostsDatabase = posts::SocialSync.PostsService.Data.PostsDatabase;
using PostsMetrics = posts::SocialSync.PostsService.Domain.PostsMetrics;
using RetryOptions = posts::SocialSync.PostsService.Domain.RetryOptions;
using RetryPolicy = posts::SocialSync.PostsService.Domain.RetryPolicy;
using ScheduleChangeNotifier = posts::SocialSync.PostsService.Data.ScheduleChangeNotifier;
using ScheduleOutboxStore = posts::SocialSync.PostsService.Data.ScheduleOutboxStore;
using SchedulerRpcHandler = posts::SocialSync.PostsService.Grpc.SchedulerRpcHandler;

namespace SocialSync.SchedulerService.Tests;

public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// PostsService's claim (the real SQL on a real PostgreSQL) with its clock faked: never a millisecond early, and the
/// misfire window decides between a late publish (recording how late) and 'missed'.
/// </summary>
public sealed class ClaimTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private NpgsqlDataSource _dataSource = null!;
    private PostsDatabase _database = null!;
    private Guid _channel;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(postgres.Server.ConnectionString(await postgres.Server.CreateDatabaseAsync()));
        _database = new PostsDatabase(_dataSource, new ConfigurationBuilder().Build());
        await new MigrationRunner(_database, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        await using var insert = _dataSource.CreateCommand("""
            insert into channels (user_id, platform, account_id, access_token_encrypted)
            values (gen_random_uuid(), 'whatsapp', 'pn-claims', '\x00') returning id
            """);
        _channel = (Guid)(await insert.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        await _dataSource.DisposeAsync();
    }

    [Fact]
    public async Task A_post_is_claimed_at_its_due_time_and_not_a_millisecond_before()
    {
        var onTime = await InsertPostAsync(Now);
        var oneMsLater = await InsertPostAsync(Now.AddMilliseconds(1));

        var result = await ClaimAsync(new RetryOptions(), onTime, oneMsLater);

        var claimed = Assert.Single(result.Claimed);
        Assert.Equal(onTime.ToString(), claimed.PostId);
        Assert.Equal(0, claimed.LateMs);
        Assert.Equal(oneMsLater.ToString(), Assert.Single(result.NotDue).PostId);
        Assert.Equal(("publishing", 1), await StatusAsync(onTime));
        Assert.Equal(("queued", 0), await StatusAsync(oneMsLater));
    }

    [Fact]
    public async Task Inside_the_default_24_hour_window_an_overdue_post_is_claimed_and_records_how_late()
    {
        var inside = await InsertPostAsync(Now - TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var beyond = await InsertPostAsync(Now - TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));

        var result = await ClaimAsync(new RetryOptions(), inside, beyond);

        var claimed = Assert.Single(result.Claimed);
        Assert.Equal(inside.ToString(), claimed.PostId);
        var late = (long)(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1)).TotalMilliseconds;
        Assert.Equal(late, claimed.LateMs);
        Assert.Equal(late, await LateMsAsync(inside));
        Assert.Equal(beyond.ToString(), Assert.Single(result.Missed));
        Assert.Equal(("missed", 0), await StatusAsync(beyond));
        Assert.Equal("Missed: found 1 day 00:00:01 overdue, beyond the misfire window of 1d 00h; not published.", await ErrorAsync(beyond));
        Assert.Equal(2, result.Settled.Count);
    }

    [Fact]
    public async Task The_misfire_window_is_configurable_and_applies_to_the_safety_net_too()
    {
        var twoHoursLate = await InsertPostAsync(Now - TimeSpan.FromHours(2));
        var halfAnHourLate = await InsertPostAsync(Now - TimeSpan.FromMinutes(30));

        // The safety net's form: no ids, any queued post at least a second overdue.
        var result = await ClaimAsync(new RetryOptions { MisfireWindow = TimeSpan.FromHours(1) }, request: new ClaimDuePostsRequest { MaxPosts = 100, MinOverdueMs = 1000 });

        Assert.Contains(twoHoursLate.ToString(), result.Missed);
        Assert.Contains(result.Claimed, c => c.PostId == halfAnHourLate.ToString() && c.LateMs == 30 * 60 * 1000);
        Assert.Contains("beyond the misfire window of 1h", await ErrorAsync(twoHoursLate));
    }

    private async Task<ClaimDuePostsResponse> ClaimAsync(RetryOptions options, params Guid[] ids) =>
        await ClaimAsync(options, request: Request(ids));

    private async Task<ClaimDuePostsResponse> ClaimAsync(RetryOptions options, ClaimDuePostsRequest request)
    {
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var service = new SchedulerRpcHandler(
            new ScheduleOutboxStore(_database),
            new ClaimStore(_database),
            new ScheduleChangeNotifier(),
            new RetryPolicy(options),
            new PostsMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            _time,
            NullLogger<SchedulerRpcHandler>.Instance);
        return await service.ClaimDuePosts(request, new TestCallContext());
    }

    private static ClaimDuePostsRequest Request(Guid[] ids)
    {
        var request = new ClaimDuePostsRequest { LeaseSeconds = 60 };
        request.PostIds.AddRange(ids.Select(id => id.ToString()));
        return request;
    }

    private async Task<Guid> InsertPostAsync(DateTimeOffset due)
    {
        await using var insert = _dataSource.CreateCommand("""
            insert into scheduled_posts (user_id, channel_id, platform, content_json, publish_at, due_at)
            values (gen_random_uuid(), @channel, 'whatsapp', '{"text":"x","media":[]}', @due, @due) returning id
            """);
        insert.Parameters.AddWithValue("channel", _channel);
        insert.Parameters.AddWithValue("due", due);
        return (Guid)(await insert.ExecuteScalarAsync())!;
    }

    private async Task<(string Status, int Attempt)> StatusAsync(Guid id)
    {
        await using var query = _dataSource.CreateCommand("select status, attempt from scheduled_posts where id = @id");
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetString(0), reader.GetInt32(1));
    }

    private async Task<long?> LateMsAsync(Guid id)
    {
        await using var query = _dataSource.CreateCommand("select dispatch_late_ms from scheduled_posts where id = @id");
        query.Parameters.AddWithValue("id", id);
        return (long?)await query.ExecuteScalarAsync();
    }

    private async Task<string?> ErrorAsync(Guid id)
    {
        await using var query = _dataSource.CreateCommand("select error_message from scheduled_posts where id = @id");
        query.Parameters.AddWithValue("id", id);
        return (string?)await query.ExecuteScalarAsync();
    }

    private sealed class TestCallContext : ServerCallContext
    {
        protected override string MethodCore => "/socialsync.posts.v1.PostsInternalService/ClaimDuePosts";
        protected override string HostCore => "localhost";
        protected override string PeerCore => "test";
        protected override DateTime DeadlineCore => DateTime.MaxValue;
        protected override Metadata RequestHeadersCore => [];
        protected override CancellationToken CancellationTokenCore => CancellationToken.None;
        protected override Metadata ResponseTrailersCore => [];
        protected override Status StatusCore { get; set; }
        protected override WriteOptions? WriteOptionsCore { get; set; }
        protected override AuthContext AuthContextCore => new(null, []);
        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}
