using System.Collections.Concurrent;
using System.Text;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

[CollectionDefinition(Name)]
public sealed class AbuseCollection : ICollectionFixture<PostsServiceFixture>
{
    public const string Name = "abuse";
}

/// <summary>
/// One PostsService process on a real PostgreSQL, shared by every abuse test. Its whole output is kept (log level
/// Debug) and its OpenTelemetry export (traces, logs, metrics) goes to a local OTLP receiver, so a test can search
/// everything the service said for a secret. It trusts user tokens of a test OIDC issuer (keys fetched again every
/// <see cref="KeyRefresh"/>) and HS256 user tokens of this run's user key, as the AppHost configures it.
/// </summary>
public sealed class PostsServiceFixture : IAsyncLifetime
{
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _telemetry = new();
    public static readonly TimeSpan KeyRefresh = TimeSpan.FromSeconds(2);

    private PostgresServer? _postgres;
    private WebApplication? _otlp;
    private GrpcChannel? _channel;

    public ServiceProcess Posts { get; private set; } = null!;
    public PostgresServer Postgres => _postgres!;
    public TestOidcIssuer Issuer { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    public GrpcChannel Channel => _channel!;
    public HttpClient Http { get; private set; } = null!;
    public PostService.PostServiceClient PostClient => new(Channel);
    public ChannelService.ChannelServiceClient ChannelClient => new(Channel);
    public PostsInternalService.PostsInternalServiceClient InternalClient => new(Channel);

    public IReadOnlyCollection<string> OutputLines => _output;

    public IReadOnlyCollection<(string Path, byte[] Body)> Telemetry => _telemetry;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        Issuer = await TestOidcIssuer.StartAsync();
        ConnectionString = _postgres.ConnectionString(await _postgres.CreateDatabaseAsync());
        var otlpPort = Ports.Free();
        _otlp = StartOtlpReceiver(otlpPort);
        await _otlp.StartAsync();

        Posts = new ServiceProcess("posts-service", "PostsService", new Dictionary<string, string?>(Issuer.Settings(KeyRefresh))
        {
            ["ConnectionStrings__postsdb"] = ConnectionString,
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__SocialSync"] = "Debug",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{otlpPort}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        })
        {
            OnOutputLine = _output.Enqueue,
        };
        await Posts.StartAsync();
        _channel = GrpcChannel.ForAddress(Posts.GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = 64 * 1024 * 1024 });
        Http = new HttpClient { BaseAddress = Posts.HttpAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    private WebApplication StartOtlpReceiver(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            _telemetry.Enqueue(($"/v1/{signal}", body.ToArray()));
            return Results.Ok();
        });
        return app;
    }

    /// <summary>Row counts of every table a request could write to.</summary>
    public async Task<Dictionary<string, long>> CountRowsAsync()
    {
        var counts = new Dictionary<string, long>();
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "channels", "scheduled_posts", "post_runs", "schedule_outbox" })
        {
            await using var count = new NpgsqlCommand($"select count(*) from {table}", connection);
            counts[table] = (long)(await count.ExecuteScalarAsync())!;
        }
        return counts;
    }

    /// <summary>A digest of every row of the user-visible tables: equal digests mean nothing changed.</summary>
    public async Task<string> SnapshotAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var digest = new StringBuilder();
        foreach (var table in new[] { "channels", "scheduled_posts", "post_runs" })
        {
            await using var query = new NpgsqlCommand($"select coalesce(md5(string_agg(t::text, '|' order by t.id)), '') from {table} t", connection);
            digest.Append(table).Append('=').Append(await query.ExecuteScalarAsync()).Append(';');
        }
        return digest.ToString();
    }

    /// <summary>Waits until the OTLP exporters have had time to flush what the service did so far.</summary>
    public async Task FlushTelemetryAsync()
    {
        var before = _telemetry.Count;
        await Polling.UntilAsync(() => Task.FromResult(_telemetry.Count), n => n > before, TimeSpan.FromSeconds(30), "an OTLP export");
        await Task.Delay(1500);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        Http?.Dispose();
        if (Posts is not null)
        {
            await Posts.DisposeAsync();
        }
        if (_otlp is not null)
        {
            await _otlp.DisposeAsync();
        }
        if (Issuer is not null)
        {
            await Issuer.DisposeAsync();
        }
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
