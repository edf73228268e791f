using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using Xunit.Abstractions;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.Observability.Tests;

/// <summary>
/// The AppHost as `./build.sh run` starts it (Development: every project exports to the dashboard and samples
/// always_on), with its dashboard, which the tests read through the dashboard's own telemetry API.
/// </summary>
public sealed class DashboardAppHost : IAsyncLifetime
{
    public static readonly string[] Services = ["posts-service", "scheduler-service", "publisher-service"];
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"socialsync-dash-{Guid.NewGuid():N}"[..27]);
    private readonly string _apiKey = Guid.NewGuid().ToString("N");

    public DistributedApplication App { get; private set; } = null!;

    public GrpcChannel PostsChannel { get; private set; } = null!;

    public DashboardTraces Traces { get; private set; } = null!;

    private HttpClient? _dashboard;

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SocialSync_AppHost>(
            new DistributedApplicationTestingBuilderOptions { EnableDashboard = true },
            [
                "SocialSync:Infrastructure=local",
                $"SocialSync:DataDirectory={_dataDirectory}",
                .. TestTokens.AppHostSecretArguments,
                // Known keys (instead of generated ones saved in the user's secrets): the API key lets the test read
                // the dashboard's telemetry API.
                $"AppHost:DashboardApiKey={_apiKey}",
                $"AppHost:OtlpApiKey={Guid.NewGuid():N}",
            ]);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        App = await builder.BuildAsync().WaitAsync(StartTimeout);
        await App.StartAsync().WaitAsync(StartTimeout);
        foreach (var resource in Services.Append("graph-api-emulator"))
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource).WaitAsync(StartTimeout);
        }
        var dashboardUrl = await App.GetDashboardUrlAsync().WaitAsync(StartTimeout);
        _dashboard = new HttpClient { BaseAddress = new Uri(dashboardUrl.GetLeftPart(UriPartial.Authority)) };
        _dashboard.DefaultRequestHeaders.Add("x-api-key", _apiKey);
        Traces = new DashboardTraces(_dashboard);
        PostsChannel = GrpcChannel.ForAddress(App.GetEndpoint("posts-service", "grpc"));
    }

    /// <summary>The environment the AppHost gave a running resource.</summary>
    public async Task<IReadOnlyDictionary<string, string?>> EnvironmentAsync(string resource)
    {
        var running = await App.ResourceNotifications.WaitForResourceAsync(resource,
            e => !e.Snapshot.EnvironmentVariables.IsDefaultOrEmpty).WaitAsync(StartTimeout);
        return running.Snapshot.EnvironmentVariables.ToDictionary(v => v.Name, v => v.Value);
    }

    public async Task DisposeAsync()
    {
        PostsChannel?.Dispose();
        _dashboard?.Dispose();
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>What a user sees on the dashboard's Traces page after `./build.sh run`.</summary>
public sealed class DashboardTraceTests(DashboardAppHost apphost, ITestOutputHelper output) : IClassFixture<DashboardAppHost>
{
    /// <summary>
    /// The idle window: the safety net polls every second, the relay's long poll returns every 10 s, the gauges and
    /// health checks run every few seconds; a minute covers each many times.
    /// </summary>
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_AppHost_gives_every_service_the_telemetry_environment_the_traced_tests_run_with()
    {
        foreach (var service in DashboardAppHost.Services)
        {
            var environment = await apphost.EnvironmentAsync(service);
            foreach (var (name, value) in AppHostTelemetry.Environment)
            {
                Assert.True(environment.TryGetValue(name, out var actual) && actual == value,
                    $"{service}: expected {name}={value}, the AppHost set {(actual is null ? "nothing" : actual)}");
            }
            Assert.False(string.IsNullOrEmpty(environment.GetValueOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT")), $"{service} exports to the dashboard");
        }
    }

    [Fact]
    public async Task Sixty_idle_seconds_leave_no_trace_in_the_dashboard()
    {
        var before = await SettledAsync();
        await Task.Delay(IdleWindow);
        var after = await apphost.Traces.SpansAsync();

        var known = before.Select(s => s.TraceId).ToHashSet();
        var added = after.Where(s => !known.Contains(s.TraceId)).ToList();
        var summary = added.GroupBy(s => $"{s.Service}: {s.Name}").OrderByDescending(g => g.Count()).Take(15)
            .Select(g => $"{g.Count()} x {g.Key}");
        Assert.True(added.Count == 0,
            $"{added.Select(s => s.TraceId).Distinct().Count()} new traces ({added.Count} spans) in {IdleWindow.TotalSeconds} idle seconds: {string.Join("; ", summary)}");
    }

    [Fact]
    public async Task A_posts_trace_is_found_in_the_dashboard_by_its_post_id_from_create_to_outcome()
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var channel = await new ChannelService.ChannelServiceClient(apphost.PostsChannel).CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = $"pn-{Guid.NewGuid():N}"[..16],
            AccessToken = "EAAG-dashboard",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);
        var posts = new PostService.PostServiceClient(apphost.PostsChannel);
        var post = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = $"Seen on the dashboard {Guid.NewGuid():N}" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(2)),
        }, auth);
        await Polling.UntilAsync(async () => await posts.GetPostAsync(new GetPostRequest { Id = post.Id }, auth),
            p => p.Status is PostStatus.Published or PostStatus.Failed or PostStatus.Unconfirmed, TimeSpan.FromSeconds(60), "the post to be published");

        // Found by its post id: the outcome's span names it, and its trace is the post's whole journey. Each service
        // exports on its own schedule (the publisher's span ends after the outcome it reported is recorded), so wait
        // for the last service's part too before judging the trace.
        var spans = await Polling.UntilAsync(apphost.Traces.SpansAsync,
            all => all.Any(s => s.Name == Spans.RecordOutcome && s.Attribute(Tags.PostId) == post.Id)
                && all.Any(s => s.Name == Spans.PublishPost && s.Attribute(Tags.PostId) == post.Id),
            TimeSpan.FromSeconds(30), "the post's outcome and its publish span in the dashboard");
        var trace = spans.Single(s => s.Name == Spans.RecordOutcome && s.Attribute(Tags.PostId) == post.Id).TraceId;
        var inTrace = spans.Where(s => s.TraceId == trace).ToList();
        output.WriteLine(string.Join(Environment.NewLine, inTrace));

        Assert.Contains(inTrace, s => s.Service == "posts-service" && s.Name.Contains("CreatePost", StringComparison.Ordinal));
        Assert.Contains(inTrace, s => s.Service == "scheduler-service" && s.Name == Spans.SchedulePost && s.Attribute(Tags.PostId) == post.Id);
        Assert.Contains(inTrace, s => s.Service == "scheduler-service" && s.Name == Spans.DispatchPost && s.Attribute(Tags.PostId) == post.Id);
        Assert.Contains(inTrace, s => s.Service == "publisher-service" && s.Name == Spans.PublishPost && s.Attribute(Tags.PostId) == post.Id);
        Assert.Contains(inTrace, s => s.Service == "posts-service" && s.Name == Spans.RecordOutcome && s.Attribute(Tags.Status) == "published");
        // Every span of the trace hangs from one root (the create): nothing of it is missing in between.
        var ids = inTrace.Select(s => s.SpanId).ToHashSet();
        Assert.Single(inTrace, s => s.ParentSpanId == "" || !ids.Contains(s.ParentSpanId));
    }

    /// <summary>The dashboard's spans once start-up and earlier tests' work has been exported (no new span for 5 s).</summary>
    private async Task<List<DashboardSpan>> SettledAsync()
    {
        var spans = await apphost.Traces.SpansAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        for (var stable = 0; stable < 5 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(1000);
            var now = await apphost.Traces.SpansAsync();
            stable = now.Count == spans.Count ? stable + 1 : 0;
            spans = now;
        }
        return spans;
    }
}
