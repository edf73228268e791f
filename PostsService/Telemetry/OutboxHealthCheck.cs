using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocialSync.PostsService.Data;
using SocialSync.ServiceDefaults;

namespace SocialSync.PostsService.Telemetry;

/// <summary>
/// Degraded while the oldest schedule change has waited longer than Health:OutboxStallLimit for the scheduler's
/// relay: posts are accepted but not indexed (the scheduler's own readiness fails on a stuck relay). Degraded, not
/// unhealthy: taking PostsService out of rotation would not bring the relay back, and would stop the API too.
/// </summary>
public sealed class OutboxHealthCheck(PostsDatabase database, IConfiguration configuration) : IHealthCheck
{
    private readonly TimeSpan _limit = configuration.GetValue("Health:OutboxStallLimit", TimeSpan.FromSeconds(60));

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var quiet = SocialSyncTelemetry.Quiet();
            await using var query = database.Owner.CreateCommand(
                "select count(*), coalesce(extract(epoch from (now() - min(created_at))), 0)::float8 from schedule_outbox");
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var pending = reader.GetInt64(0);
            var age = TimeSpan.FromSeconds(reader.GetDouble(1));
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
