using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Background;

/// <summary>
/// Marks expired the posts whose time came while they waited for approval (<see cref="ReviewStore.ExpireOverdueAsync"/>),
/// every <c>Approval:ExpirySweepInterval</c> (30 s). They were never claimable; expiring them says so to their
/// authors, and they need a new time and a new approval. Any replica may sweep: the update is idempotent.
/// </summary>
public sealed partial class ApprovalExpiry(ReviewStore reviews, IConfiguration configuration, TimeProvider time, ILogger<ApprovalExpiry> log)
    : BackgroundService
{
    private readonly TimeSpan _interval = configuration.GetValue("Approval:ExpirySweepInterval", TimeSpan.FromSeconds(30));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, time);
        do
        {
            try
            {
                if (await reviews.ExpireOverdueAsync(time.GetUtcNow(), stoppingToken) is var expired and > 0)
                {
                    LogExpired(expired);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(1, LogLevel.Information, "Expired {Count} posts whose time passed while they waited for approval")]
    private partial void LogExpired(int count);

    [LoggerMessage(2, LogLevel.Warning, "The approval expiry sweep failed: {Reason}")]
    private partial void LogSweepFailed(string reason);
}
