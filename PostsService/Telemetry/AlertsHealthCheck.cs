using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Telemetry;

/// <summary>
/// The original design's alerts as /health reasons: Degraded while any is raised, each under its stable name in the
/// check's data (<c>stuck_publishing</c>, <c>retries_high</c>, <c>failures_high</c>, <c>dispatcher_not_running</c>)
/// with what it saw. Degraded, not unhealthy: none of them is cured by taking PostsService out of rotation. The
/// figures are the gauges' last sample (<see cref="PostsGauges.RecentAlerts"/>, every Telemetry:GaugeInterval), so
/// probes, however many, cost no query; only when that sample is missing or stale does a probe ask PostgreSQL.
/// </summary>
public sealed class AlertsHealthCheck(StatisticsStore statistics, PostsGauges gauges, AlertThresholds thresholds, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        AlertFigures figures;
        try
        {
            figures = gauges.RecentAlerts(now) ?? await statistics.AlertFiguresAsync(now, thresholds, cancellationToken);
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", ex);
        }
        var raised = PublishingAlerts.Raised(figures, thresholds);
        if (raised.Count == 0)
        {
            return HealthCheckResult.Healthy("No alert is raised.");
        }
        var data = raised.ToDictionary(alert => alert.Name, alert => (object)alert.Description);
        return HealthCheckResult.Degraded(string.Join(" ", raised.Select(alert => $"{alert.Name}: {alert.Description}")), data: data);
    }
}
