using System.Net;
using System.Net.Http.Headers;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

[CollectionDefinition(Name)]
public sealed class LimitsCollection : ICollectionFixture<LimitedPostsServiceFixture>
{
    public const string Name = "limits";
}

/// <summary>
/// A PostsService on a real PostgreSQL with small per-user limits and a small request size limit. Its buckets refill
/// one call an hour, so nothing refills while a test runs, however slow the machine: each test spends its users'
/// bursts in a known number of calls. Every test uses its own users.
/// </summary>
public sealed class LimitedPostsServiceFixture : IAsyncLifetime
{
    public const int RequestBurst = 10;
    public const int CreateBurst = 3;
    public const int MaxBatchCreate = 2;
    public const int MaxRequestBytes = 64 * 1024;
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);

    private PostgresServer? _postgres;
    private GrpcChannel? _grpc;
    private GrpcChannel? _grpcWeb;

    public ServiceProcess Posts { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The public API over gRPC (HTTP/2) and over gRPC-Web (HTTP/1.1), as a browser calls it.</summary>
    public PostService.PostServiceClient PostClient => new(_grpc!);
    public PostService.PostServiceClient GrpcWebPostClient => new(_grpcWeb!);
    public ChannelService.ChannelServiceClient ChannelClient => new(_grpc!);
    public PostsInternalService.PostsInternalServiceClient InternalClient => new(_grpc!);

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        var connectionString = _postgres.ConnectionString(await _postgres.CreateDatabaseAsync());
        Posts = new ServiceProcess("posts-service", "PostsService", new Dictionary<string, string?>
        {
            ["ConnectionStrings__postsdb"] = connectionString,
            ["RateLimits__Period"] = Period.ToString("c"),
            ["RateLimits__RequestsPerPeriod"] = "1",
            ["RateLimits__RequestBurst"] = RequestBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__CreatesPerPeriod"] = "1",
            ["RateLimits__CreateBurst"] = CreateBurst.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimits__MaxBatchCreate"] = MaxBatchCreate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RequestLimits__MaxRequestBytes"] = MaxRequestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await Posts.StartAsync();
        // The client may send more than the service takes: the service is what refuses.
        _grpc = GrpcChannel.ForAddress(Posts.GrpcAddress, new GrpcChannelOptions { MaxSendMessageSize = null });
        _grpcWeb = GrpcChannel.ForAddress(Posts.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            MaxSendMessageSize = null,
        });
        Http = new HttpClient { BaseAddress = Posts.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>A REST request carrying <paramref name="token"/>, with <paramref name="json"/> as its body when given.</summary>
    public async Task<HttpResponseMessage> RestAsync(HttpMethod method, string path, string token, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return await Http.SendAsync(request);
    }

    public async Task DisposeAsync()
    {
        _grpc?.Dispose();
        _grpcWeb?.Dispose();
        Http?.Dispose();
        if (Posts is not null)
        {
            await Posts.DisposeAsync();
        }
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
