namespace SocialSync.Testing;

/// <summary>
/// The telemetry settings the AppHost gives every project it starts in Development (what `./build.sh run` does):
/// a sampler that records every span whatever its parent says, and short export delays. The traced tests run the
/// services with them, as users run them, and so does the soak; DashboardTraceTests checks them against the AppHost's own
/// resources, so this copy cannot drift from what the AppHost really sets.
/// </summary>
public static class AppHostTelemetry
{
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        ["OTEL_TRACES_SAMPLER"] = "always_on",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "1000",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "1000",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
        ["OTEL_METRICS_EXEMPLAR_FILTER"] = "trace_based",
    };
}
