using Microsoft.Extensions.Diagnostics.HealthChecks;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Extensions;

/// <summary>Ready only while PostgreSQL answers a query.</summary>
public sealed class DatabaseHealthCheck(PostsDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", ex);
        }
    }
}
