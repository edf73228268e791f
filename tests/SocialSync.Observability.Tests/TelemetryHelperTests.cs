using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;
using SocialSync.ServiceDefaults;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.Observability.Tests;

/// <summary>The trace helpers, in process, with OpenTelemetry's in-memory exporter and its default sampler.</summary>
[Collection(InProcessTracing.Name)]
public sealed class TelemetryHelperTests : IDisposable
{
    private readonly List<Activity> _exported = [];
    private readonly TracerProvider _provider;

    public TelemetryHelperTests()
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(ActivitySourceName)
            .AddInMemoryExporter(_exported)
            .Build()!;
    }

    public void Dispose() => _provider.Dispose();

    [Fact]
    public void Spans_inside_a_quiet_scope_are_not_recorded_and_propagate_not_sampled()
    {
        string? propagated;
        using (Quiet())
        {
            using var inner = SocialSyncTelemetry.ActivitySource.StartActivity("poll");
            Assert.NotNull(Activity.Current);
            Assert.False(Activity.Current!.Recorded);
            propagated = Activity.Current.Id;
        }
        Assert.Null(Activity.Current);
        Assert.Empty(_exported);
        Assert.EndsWith("-00", propagated, StringComparison.Ordinal);
    }

    [Fact]
    public void A_post_span_in_a_quiet_scope_joins_the_posts_stored_trace_and_links_to_its_batch()
    {
        using var create = SocialSyncTelemetry.ActivitySource.StartActivity("create");
        var stored = create!.Id;
        create.Stop();
        Activity.Current = null;

        using var batch = StartRoot(Spans.ClaimBatch);
        using (Quiet())
        {
            using var post = StartPostSpan(Spans.DispatchPost, ActivityKind.Producer, stored, "post-1", batch.Context);
            Assert.True(post.Activity!.Recorded);
            Assert.Equal(create.TraceId, post.Activity.TraceId);
            Assert.Equal(create.SpanId, post.Activity.ParentSpanId);
            Assert.Equal(batch.Context, Assert.Single(post.Activity.Links).Context);
            Assert.Equal("post-1", post.Activity.GetTagItem(Tags.PostId));
        }
        Assert.Same(batch.Activity, Activity.Current);
    }

    [Fact]
    public void A_root_span_starts_a_new_trace_even_inside_another_and_restores_it()
    {
        using var outer = SocialSyncTelemetry.ActivitySource.StartActivity("outer");
        using (var root = StartRoot(Spans.RetryPost, link: outer!.Context))
        {
            Assert.NotEqual(outer.TraceId, root.Activity!.TraceId);
            Assert.Equal(default, root.Activity.ParentSpanId);
            Assert.NotNull(root.Traceparent);
        }
        Assert.Same(outer, Activity.Current);
    }
}

/// <summary>Access tokens never reach a log line, even with every HttpClient log at Trace level.</summary>
public sealed class TokenRedactionTests
{
    [Fact]
    public async Task HttpClient_logging_at_trace_level_never_writes_an_authorization_header_value()
    {
        var token = $"EAAG-secret-{Guid.NewGuid():N}";
        var lines = new List<string>();
        // No appsettings: nothing but the minimum level below decides what is logged.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddProvider(new ListLoggerProvider(lines));
        builder.AddServiceDefaults();
        builder.Services.AddHttpClient("graph-api").ConfigurePrimaryHttpMessageHandler(() => new OkHandler());
        using var host = builder.Build();

        using var request = new HttpRequestMessage(HttpMethod.Post, "http://graph.example/v21.0/123/messages");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("graph-api");
        using var response = await client.SendAsync(request);

        Assert.Contains(lines, l => l.Contains("Authorization", StringComparison.Ordinal)); // headers were logged...
        Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));    // ...without the value
    }

    private sealed class OkHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("{}") });
    }

    private sealed class ListLoggerProvider(List<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new ListLogger(lines);

        public void Dispose()
        {
        }
    }

    private sealed class ListLogger(List<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines)
            {
                lines.Add(formatter(state, exception));
            }
        }
    }
}
