using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>Wakes this replica's dispatch loop when another replica indexes a post (Redis pub/sub).</summary>
public sealed class WakeSubscription(IConnectionMultiplexer redis, DispatchIndex index, WakeSignal wake) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(index.WakeChannel, (_, _) => wake.Pulse());
        }
        catch (RedisConnectionException)
        {
            // The multiplexer re-subscribes when Redis comes back; until then the safety net carries dispatch.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
