using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Grpc;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// PostsService's claim (the real SQL on a real PostgreSQL) with its clock faked: never a millisecond early, and the
/// misfire window decides between a late publish (recording how late) and 'missed'.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class ClaimTests(PostsServiceFixture fixture) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private NpgsqlDataSource _dataSource = null!;
    private PostsDatabase _database = null!;
    private Guid _channel;

    public async Task InitializeAsync()
    {
        _dataSource = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString(await fixture.Postgres.CreateDatabaseAsync()));
        // Its own database on the collection's PostgreSQL. The API role is cluster-wide and the migrations set its
        // password, so they set the one the collection's PostsService process logs in with.
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Database:AppPassword", PostsServiceFixture.AppRolePassword)])
            .Build();
        _database = new PostsDatabase(_dataSource, configuration);
        await new MigrationRunner(_database, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);
        await using var insert = _dataSource.CreateCommand("""
            with workspace as (insert into workspaces (name, created_by) values ('Claims', gen_random_uuid()) returning id, created_by)
            insert into channels (user_id, workspace_id, platform, account_id, access_token_encrypted)
            select created_by, id, 'whatsapp', 'pn-claims', '\x00' from workspace returning id
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
        Assert.Equal(0, await LateMsAsync(onTime));
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
        Assert.Equal(late, await LateMsAsync(inside));
        Assert.Equal(1, result.MissedCount);
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

        Assert.Equal(("missed", 0), await StatusAsync(twoHoursLate));
        Assert.Contains(result.Settled, s => s.PostId == twoHoursLate.ToString());
        Assert.Contains(result.Claimed, c => c.PostId == halfAnHourLate.ToString());
        Assert.Equal(30 * 60 * 1000, await LateMsAsync(halfAnHourLate));
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
        var request = new ClaimDuePostsRequest();
        request.PostIds.AddRange(ids.Select(id => id.ToString()));
        return request;
    }

    private async Task<Guid> InsertPostAsync(DateTimeOffset due)
    {
        await using var insert = _dataSource.CreateCommand("""
            insert into scheduled_posts (user_id, workspace_id, channel_id, platform, content_json, publish_at, due_at)
            select user_id, workspace_id, id, 'whatsapp', '{"text":"x","media":[]}', @due, @due from channels where id = @channel returning id
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
