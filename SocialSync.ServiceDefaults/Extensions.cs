using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SocialSync.ServiceDefaults;
using SocialSync.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

// Cross-cutting wiring every SocialSync service shares: telemetry, health, service discovery, resilience.
public static class Extensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddServiceDiscovery();
            // Header values (Authorization: a Meta access token or a service token) never reach a log line, even
            // at Trace level. .NET 9+ redacts by default; this keeps it so whatever a later default becomes.
            http.RedactLoggedHeaders(_ => true);
        });
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(SocialSyncTelemetry.MeterPrefix + "*"))
            .WithTracing(tracing => tracing
                // Whatever sampler OTEL_TRACES_SAMPLER picks (always_on under the AppHost), quiet scopes stay untraced.
                .ConfigureSampler((_, configured) => new QuietScopeSampler(configured))
                .AddProcessor(new BackgroundNoiseFilter())
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(SocialSyncTelemetry.ActivitySourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !IsHealthRequest(ctx.Request.Path))
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = r => !IsHealthRequest(r.RequestUri?.AbsolutePath))
                .AddSource("Npgsql"));

        // Spans as JSON lines in a folder: for tests that run the services as processes, or a look without a collector.
        if (builder.Configuration["Telemetry:SpanDirectory"] is { Length: > 0 } spanDirectory)
        {
            var service = builder.Environment.ApplicationName;
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing =>
                tracing.AddProcessor(new SimpleActivityExportProcessor(new SpanFileExporter(spanDirectory, service))));
        }

        // Metrics in Prometheus' text format at /metrics, for Prometheus users (deploy/prometheus/alerts.yml) and for
        // tests that check a counter against what a run did. Off unless asked: it shows service-wide counts.
        if (builder.Configuration.GetValue("Telemetry:PrometheusEndpoint", false))
        {
            builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddPrometheusExporter());
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    private static bool IsHealthRequest(string? path) =>
        path is not null && (path.StartsWith("/health", StringComparison.Ordinal)
            || path.StartsWith("/alive", StringComparison.Ordinal)
            || path.Contains("grpc.health.v1.Health", StringComparison.Ordinal));

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        builder.Services.AddGrpcHealthChecks();
        return builder;
    }

    /// <summary>Maps /health (readiness: every check), /alive (liveness) and the gRPC health service.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health", new() { ResponseWriter = HealthReportWriter.WriteAsync });
        app.MapHealthChecks("/alive", new() { Predicate = r => r.Tags.Contains("live") });
        app.MapGrpcHealthChecksService();
        if (app.Configuration.GetValue("Telemetry:PrometheusEndpoint", false))
        {
            app.MapPrometheusScrapingEndpoint();
        }
        return app;
    }
}
