using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Background;

/// <summary>Settings of delivery reconciliation (section "Deliveries").</summary>
public sealed class DeliveryOptions
{
    public const string SectionName = "Deliveries";

    /// <summary>
    /// How long an unconfirmed WhatsApp post waits for any delivery status of its attempt before it is sent once more.
    /// Unset (the default): never automatically; set it only where Meta's webhooks reach PublisherService, since
    /// without them no status ever arrives and every lost answer would be resent (docs/webhooks.md).
    /// </summary>
    public TimeSpan? ReconciliationWindow { get; set; }

    /// <summary>How often the window is checked.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Sends once more each unconfirmed post whose reconciliation window passed with no delivery status at all for its
/// attempt (<see cref="DeliveryStore.ResendUnconfirmedAsync"/>). Any replica may run it: the update locks what it takes.
/// </summary>
public sealed partial class DeliveryReconciler(DeliveryStore deliveries, DeliveryOptions options, TimeProvider time, ILogger<DeliveryReconciler> log)
    : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.ReconciliationWindow is not { } window || window <= TimeSpan.Zero)
        {
            return;
        }
        var reason = $"No delivery status arrived within {DurationText.Describe(window)} of a send whose answer was lost; sent once more.";
        using var timer = new PeriodicTimer(options.CheckInterval, time);
        do
        {
            try
            {
                var resent = await deliveries.ResendUnconfirmedAsync(time.GetUtcNow() - window, reason, BatchSize, stoppingToken);
                foreach (var id in resent)
                {
                    LogResending(id, window);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogCheckFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Warning, "Post {PostId}: no delivery status within {Window} of a send whose answer was lost; sending it once more")]
    private partial void LogResending(Guid postId, TimeSpan window);

    [LoggerMessage(2, LogLevel.Warning, "The delivery reconciliation check failed")]
    private partial void LogCheckFailed(Exception ex);
}
