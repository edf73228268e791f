namespace SocialSync.SchedulerService.Scheduling;

public sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";

    /// <summary>Redis key prefix, so several systems can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "socialsync";

    /// <summary>Most post ids claimed in one PostsService round trip.</summary>
    public int ClaimBatchSize { get; set; } = 1000;

    /// <summary>Longest sleep with nothing due; a guard against a lost wake-up, not the dispatch mechanism.</summary>
    public TimeSpan MaxIdleWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often overdue posts are looked for in PostgreSQL, whatever the index says.</summary>
    public TimeSpan SafetyNetInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How overdue a post must be before the safety net claims it (the index should have fired by then).</summary>
    public TimeSpan SafetyNetGrace { get; set; } = TimeSpan.FromMilliseconds(1000);

    public TimeSpan LeaseRecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Publish calls in flight towards PublisherService at once.</summary>
    public int MaxConcurrentPublishCalls { get; set; } = 16;

    /// <summary>Posts per PublishPosts call.</summary>
    public int PublishBatchSize { get; set; } = 50;

    /// <summary>Claimed posts waiting for a publish call; when full, claiming pauses (back-pressure).</summary>
    public int DispatchQueueCapacity { get; set; } = 20_000;
}
