using System.Net.Http.Headers;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>One PostgreSQL and one PostsService process shared by every test; each test makes its own users.</summary>
public class PostsServiceFixture : IAsyncLifetime
{
    public static readonly string AppRolePassword = TestTokens.ServiceSecrets["Database__AppPassword"]!;

    private GrpcChannel? _channel;

    public PostgresServer Postgres { get; private set; } = null!;
    public ServiceProcess Service { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public HttpClient Http { get; private set; } = null!;

    public PostService.PostServiceClient Posts => new(_channel!);
    public ChannelService.ChannelServiceClient Channels => new(_channel!);
    public WorkspaceService.WorkspaceServiceClient Workspaces => new(_channel!);
    public PostTransferService.PostTransferServiceClient Transfer => new(_channel!);
    public PostsInternalService.PostsInternalServiceClient Internal => new(_channel!);
    public QueueService.QueueServiceClient Queue => new(_channel!);
    public TemplateService.TemplateServiceClient Templates => new(_channel!);
    public PostWatchService.PostWatchServiceClient Watch => new(_channel!);
    public DeliveriesInternalService.DeliveriesInternalServiceClient Deliveries => new(_channel!);
    public PostDeliveryService.PostDeliveryServiceClient PostDeliveries => new(_channel!);
    public PostStatisticsService.PostStatisticsServiceClient Statistics => new(_channel!);
    public ExperimentService.ExperimentServiceClient Experiments => new(_channel!);
    public WebhookEndpointService.WebhookEndpointServiceClient WebhookEndpoints => new(_channel!);

    /// <summary>The API's own role, under row-level security.</summary>
    public string AppConnectionString => new NpgsqlConnectionStringBuilder(ConnectionString)
    {
        Username = "socialsync_app",
        Password = AppRolePassword,
    }.ConnectionString;

    /// <summary>Settings a fixture of its own adds to the service's (media checks are off here: its tests' URLs cannot be fetched).</summary>
    protected virtual IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>();

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        var database = await Postgres.CreateDatabaseAsync();
        ConnectionString = Postgres.ConnectionString(database);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings__postsdb"] = ConnectionString,
            // Posts whose time passes while they wait for approval expire within a second (ApprovalTests).
            ["Approval__ExpirySweepInterval"] = "00:00:01",
            // A 10,000-row import takes its posts from the create bucket chunk by chunk; at the default 20 per second
            // it would wait minutes (PostCsvImportTests).
            ["RateLimits__CreatesPerPeriod"] = "5000",
            // WatchPostsTests: keep-alives and the pruning of changes older than the retention within a second or two.
            ["Watch__HeartbeatInterval"] = "00:00:01",
            ["Watch__PruneInterval"] = "00:00:01",
        };
        foreach (var (key, value) in ExtraSettings)
        {
            settings[key] = value;
        }
        Service = new ServiceProcess("posts-service", "PostsService", settings);
        await Service.StartAsync();
        _channel = GrpcChannel.ForAddress(Service.GrpcAddress);
        Http = new HttpClient { BaseAddress = Service.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        _channel?.Dispose();
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }

    public TestUser NewUser() => new(Guid.NewGuid());

    /// <summary>A WhatsApp channel of <paramref name="user"/>'s, in <paramref name="workspace"/> (their personal one when null).</summary>
    public async Task<Channel> CreateWhatsAppChannelAsync(TestUser user, string token = "EAAG-test-token", Workspace? workspace = null,
        bool requiresApproval = false)
    {
        return await Channels.CreateChannelAsync(new CreateChannelRequest
        {
            WorkspaceId = workspace?.Id ?? "",
            Platform = Platform.Whatsapp,
            AccountId = "10" + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999),
            AccessToken = token,
            DisplayName = "Shop",
            Settings = new ChannelSettings { Recipients = { "+16505551234" }, RequiresApproval = requiresApproval },
        }, user.Headers);
    }

    /// <summary>A new member of <paramref name="workspace"/> with <paramref name="role"/>, invited by <paramref name="inviter"/>.</summary>
    public async Task<TestUser> JoinAsync(TestUser inviter, Workspace workspace, WorkspaceRole role)
    {
        var member = NewUser();
        var invitation = await Workspaces.CreateInvitationAsync(new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = role }, inviter.Headers);
        await Workspaces.AcceptInvitationAsync(new AcceptInvitationRequest { Token = invitation.Token }, member.Headers);
        return member;
    }

    public async Task<Channel> CreateInstagramChannelAsync(TestUser user)
    {
        return await Channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Instagram,
            AccountId = "17841" + Random.Shared.NextInt64(100_000_000, 999_999_999),
            AccessToken = "IGQ-test-token",
            Settings = new ChannelSettings { InstagramMode = InstagramMode.Feed },
        }, user.Headers);
    }

    public async Task<ScheduledPost> CreatePostAsync(TestUser user, Channel channel, string text = "Hello", TimeSpan? inFuture = null, string requestId = "")
    {
        var content = new Content { Text = text };
        if (channel.Platform == Platform.Instagram)
        {
            content.Media.Add(new Media { Type = MediaType.Image, Url = "https://example.com/image.jpg" });
        }
        return await Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = content,
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + (inFuture ?? TimeSpan.FromHours(1))),
            RequestId = requestId,
        }, user.Headers);
    }

    /// <summary>Makes the post due now, claims it, starts its run and reports <paramref name="kind"/>.</summary>
    public async Task FinishAsync(string postId, OutcomeKind kind)
    {
        var service = TestTokens.ForService();
        await OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", Guid.Parse(postId)));
        var claim = await Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { postId } }, service);
        var claimed = Assert.Single(claim.Claimed);
        var started = await Internal.StartRunsAsync(new StartRunsRequest { Runs = { new RunToStart { PostId = postId, Attempt = claimed.Attempt } } }, service);
        var run = Assert.Single(started.Runs);
        var report = await Internal.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes =
            {
                new PublishOutcome
                {
                    PostId = postId, Attempt = claimed.Attempt, RunId = run.RunId, Kind = kind,
                    PlatformPostId = kind == OutcomeKind.Published ? "wamid.test" : "", Error = kind == OutcomeKind.Published ? "" : "rejected",
                },
            },
        }, service);
        Assert.True(report.Results[0].Accepted);
    }

    /// <summary>Runs SQL as the table owner (bypassing row-level security), to set up states the API cannot reach.</summary>
    public async Task<object?> OwnerScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteScalarAsync();
    }

    public HttpRequestMessage Rest(HttpMethod method, string path, TestUser? user, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (user is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.Token);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }
}

public sealed record TestUser(Guid Id)
{
    public string Token { get; } = TestTokens.User(Id);
    public Metadata Headers => TestTokens.Bearer(Token);
}

[CollectionDefinition(Name)]
public sealed class PostsServiceCollection : ICollectionFixture<PostsServiceFixture>
{
    public const string Name = "posts-service";
}

public static class Expect
{
    public static async Task<RpcException> Status(StatusCode code, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(ex.StatusCode == code, $"expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        return ex;
    }

    /// <summary>INVALID_ARGUMENT whose google.rpc.BadRequest names <paramref name="fields"/>.</summary>
    public static async Task<BadRequest> BadFields(Func<Task> call, params string[] fields)
    {
        var ex = await Status(StatusCode.InvalidArgument, call);
        var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        var named = badRequest.FieldViolations.Select(v => v.Field).ToHashSet();
        foreach (var field in fields)
        {
            Assert.True(named.Contains(field), $"no violation for '{field}' in: {string.Join(", ", named)}");
        }
        return badRequest;
    }
}
