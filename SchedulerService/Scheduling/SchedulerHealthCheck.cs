using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Ready only while Redis answers and the dispatch loop and outbox relay are making progress, so a dead dispatcher
/// shows as unhealthy instead of silently holding posts.
/// </summary>
public sealed class SchedulerHealthCheck(IConnectionMultiplexer redis, SchedulerState state, TimeProvider time) : IHealthCheck
{
    private static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(45);
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable.", ex);
        }
        var now = time.GetUtcNow();
        if (Stalled(state.LastDispatchLoopProgress, now))
        {
            return HealthCheckResult.Unhealthy("The dispatch loop has made no progress for over 45 s.");
        }
        if (Stalled(state.LastRelayProgress, now))
        {
            return HealthCheckResult.Unhealthy("The outbox relay has made no progress for over 45 s.");
        }
        return HealthCheckResult.Healthy();
    }

    private bool Stalled(DateTimeOffset? last, DateTimeOffset now) => now - (last ?? _startedAt) > StallLimit;
}
