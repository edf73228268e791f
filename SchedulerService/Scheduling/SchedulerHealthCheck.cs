using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Ready only while Redis answers and the dispatch loop, the safety net and the outbox relay are making progress (within
/// Health:StallLimit, 45 s by default), so a dead dispatcher shows as unhealthy instead of silently holding posts.
/// The dispatch loop progresses at least every Scheduler:MaxIdleWait; the relay at least every long poll (10 s).
/// A singleton, so "no progress since start" is measured from the start of the service, not of the request.
/// </summary>
public sealed class SchedulerHealthCheck(IConnectionMultiplexer redis, SchedulerState state, IConfiguration configuration, TimeProvider time) : IHealthCheck
{
    private readonly TimeSpan _stallLimit = configuration.GetValue("Health:StallLimit", TimeSpan.FromSeconds(45));
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        Exception? redisError = null;
        try
        {
            await redis.GetDatabase().PingAsync();
        }
        catch (Exception ex)
        {
            redisError = ex;
            problems.Add("Redis is unreachable.");
        }
        var now = time.GetUtcNow();
        if (Stalled(state.LastDispatchLoopProgress, now) is { } dispatchIdle)
        {
            problems.Add($"The dispatch loop has made no progress for {dispatchIdle.TotalSeconds:F0} s (limit {_stallLimit.TotalSeconds:F0} s).");
        }
        if (Stalled(state.LastSafetyNetProgress, now) is { } safetyNetIdle)
        {
            problems.Add($"The safety net (dispatch straight from PostgreSQL) has made no progress for {safetyNetIdle.TotalSeconds:F0} s (limit {_stallLimit.TotalSeconds:F0} s).");
        }
        if (Stalled(state.LastRelayProgress, now) is { } relayIdle)
        {
            problems.Add($"The outbox relay is stuck: no schedule change relayed or empty poll for {relayIdle.TotalSeconds:F0} s (limit {_stallLimit.TotalSeconds:F0} s).");
        }
        return problems.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(string.Join(" ", problems), redisError);
    }

    private TimeSpan? Stalled(DateTimeOffset? last, DateTimeOffset now)
    {
        var idle = now - (last ?? _startedAt);
        return idle > _stallLimit ? idle : null;
    }
}
