using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Wakes this replica's dispatch loop when another replica indexes a post (Redis pub/sub). The subscription is made
/// in the background, retried until Redis answers: a replica started while Redis is down or slow (a SUBSCRIBE that
/// timed out on a loaded machine stopped the whole scheduler at start) runs meanwhile on its own timers and the
/// safety net, only without the early wake-ups.
/// </summary>
public sealed partial class WakeSubscription(IConnectionMultiplexer redis, DispatchIndex index, WakeSignal wake, TimeProvider time,
    ILogger<WakeSubscription> logger) : BackgroundService
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(1);
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once Redis has confirmed the subscription.</summary>
    public Task Subscribed => _subscribed.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.GetSubscriber();
        Action<RedisChannel, RedisValue> onWake = (_, _) => wake.Pulse();
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await subscriber.SubscribeAsync(index.WakeChannel, onWake);
                _subscribed.TrySetResult();
                return;
            }
            catch (Exception e) when (e is RedisConnectionException or RedisTimeoutException)
            {
                // Once the multiplexer knows the subscription it renews it after every reconnect; a timed-out attempt
                // may still have reached Redis, so it is withdrawn before the next one, never doubled.
                LogSubscribeFailed(attempt, e.Message);
                await subscriber.UnsubscribeAsync(index.WakeChannel, onWake, CommandFlags.FireAndForget);
                await Task.Delay(RetryAfter, time, stoppingToken);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Could not subscribe to the index's wake-ups (attempt {Attempt}); dispatching on timers until Redis answers: {Reason}")]
    private partial void LogSubscribeFailed(int attempt, string reason);
}
