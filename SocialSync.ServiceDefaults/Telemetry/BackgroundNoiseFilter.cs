using System.Diagnostics;
using OpenTelemetry;

namespace SocialSync.ServiceDefaults.Telemetry;

/// <summary>
/// Drops database and Redis spans that belong to no trace: connection keep-alive PINGs, the gRPC health publisher's
/// periodic checks (SELECT 1, PING), subscriptions. Inside any traced operation they are kept. Runs before the
/// exporters, which skip a span that is not recorded.
/// </summary>
public sealed class BackgroundNoiseFilter : BaseProcessor<Activity>
{
    private static readonly HashSet<string> DatabaseSources = ["Npgsql", "OpenTelemetry.Instrumentation.StackExchangeRedis"];

    public override void OnEnd(Activity data)
    {
        if (data.ParentSpanId == default && DatabaseSources.Contains(data.Source.Name))
        {
            data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
        }
    }
}
