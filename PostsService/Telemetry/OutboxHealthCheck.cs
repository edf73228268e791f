using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Telemetry;

/// <summary>
/// Degraded while the oldest schedule change has waited longer than Health:OutboxStallLimit for the scheduler's
/// relay: posts are accepted but not indexed (the scheduler's own readiness fails on a stuck relay). Degraded, not
/// unhealthy: taking PostsService out of rotation would not bring the relay back, and would stop the API too.
/// </summary>
public sealed class OutboxHealthCheck(ScheduleOutboxStore outbox, IConfiguration configuration) : IHealthCheck
{
    private readonly TimeSpan _limit = configuration.GetValue("Health:OutboxStallLimit", TimeSpan.FromSeconds(60));

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var (pending, age) = await outbox.BacklogAsync(cancellationToken);
            return age > _limit
                ? HealthCheckResult.Degraded($"The schedule outbox relay is stuck: {pending} changes pending, the oldest for {age.TotalSeconds:F0} s (limit {_limit.TotalSeconds:F0} s).")
                : HealthCheckResult.Healthy($"{pending} schedule changes pending.");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", ex);
        }
    }
}
