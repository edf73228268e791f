using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using SocialSync.ServiceDefaults;
using SocialSync.Testing;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.Observability.Tests;

/// <summary>
/// The services' own tracing set-up (AddServiceDefaults) in process, configured as the AppHost configures it
/// (OTEL_TRACES_SAMPLER=always_on), spans collected in memory.
/// </summary>
[Collection(InProcessTracing.Name)]
public sealed class AlwaysOnSamplingTests : IDisposable
{
    private readonly List<Activity> _exported = [];
    private readonly IHost _host;

    public AlwaysOnSamplingTests()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        foreach (var (name, value) in AppHostTelemetry.Environment)
        {
            builder.Configuration[name] = value;
        }
        builder.AddServiceDefaults();
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(_exported));
        _host = builder.Build();
        _host.Services.GetRequiredService<TracerProvider>();
    }

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Under_always_on_spans_inside_a_quiet_scope_are_not_recorded_and_propagate_the_quiet_marker()
    {
        using (Quiet())
        {
            using var poll = SocialSyncTelemetry.ActivitySource.StartActivity("poll");
            using var nested = SocialSyncTelemetry.ActivitySource.StartActivity("nested");
            Assert.False(IsRecorded(poll) || IsRecorded(nested));
            // What an outgoing call carries: a not-sampled traceparent marked quiet.
            Assert.EndsWith("-00", Activity.Current!.Id, StringComparison.Ordinal);
            Assert.Equal(QuietTraceState, Activity.Current.TraceStateString);
        }
        Assert.Empty(_exported);
    }

    [Fact]
    public void Under_always_on_a_call_from_another_services_quiet_scope_is_not_recorded()
    {
        var remote = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None,
            QuietTraceState, isRemote: true);
        using (var server = SocialSyncTelemetry.ActivitySource.StartActivity("PullScheduleChanges", ActivityKind.Server, remote))
        {
            using var query = SocialSyncTelemetry.ActivitySource.StartActivity("SELECT");
            Assert.False(IsRecorded(server) || IsRecorded(query));
        }
        Assert.Empty(_exported);
    }

    [Fact]
    public void Under_always_on_a_child_of_a_span_this_service_chose_not_to_record_is_not_recorded()
    {
        // What the ASP.NET Core instrumentation's filter does to a /health request: its health-check queries follow.
        using (var health = SocialSyncTelemetry.ActivitySource.StartActivity("GET /health", ActivityKind.Server))
        {
            health!.IsAllDataRequested = false;
            health.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            using var query = SocialSyncTelemetry.ActivitySource.StartActivity("SELECT 1");
            Assert.False(IsRecorded(query));
        }
        Assert.Empty(_exported);
    }

    [Fact]
    public void Under_always_on_a_not_sampled_caller_from_outside_and_a_post_span_in_a_quiet_scope_are_recorded()
    {
        var outside = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using (var request = SocialSyncTelemetry.ActivitySource.StartActivity("CreatePost", ActivityKind.Server, outside))
        {
            Assert.True(request!.Recorded);
        }

        var stored = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01";
        using (Quiet())
        {
            using var post = StartPostSpan(Spans.DispatchPost, ActivityKind.Producer, stored, "post-1");
            Assert.True(post.Activity!.Recorded);
        }
        Assert.Equal(["CreatePost", Spans.DispatchPost], _exported.Select(a => a.DisplayName));
    }

    /// <summary>Not recorded: either not created at all (a local unsampled parent) or created only to propagate.</summary>
    private static bool IsRecorded(Activity? activity) => activity is { Recorded: true };
}

/// <summary>
/// Tests that trace in this process: alone, after every parallel test, since an activity is recorded when any
/// listener asks for it and a heap measurement counts whatever else the process is doing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessTracing
{
    public const string Name = "in-process tracing";
}
