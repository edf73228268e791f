namespace SocialSync.SchedulerService.Scheduling;

public sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";

    /// <summary>Redis key prefix, so several systems can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "socialsync";

    /// <summary>
    /// Shards of the index (hash-tagged keys, one Redis Cluster slot each), divided among the schedulers. Every
    /// replica must use the same count; a change of it makes each shard rebuild once (its marker names the count).
    /// </summary>
    public int ShardCount { get; set; } = 16;

    /// <summary>How long a scheduler's claim on a shard (and its membership) lasts without renewal: a crashed scheduler's shards pass to the others after it.</summary>
    public TimeSpan ShardLease { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a scheduler renews its membership and shard leases, and takes or gives up shards to match the live schedulers.</summary>
    public TimeSpan ShardRenewInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most post ids claimed in one PostsService round trip.</summary>
    public int ClaimBatchSize { get; set; } = 1000;

    /// <summary>Claim batches of one burst in flight at once.</summary>
    public int ClaimParallelism { get; set; } = 4;

    /// <summary>Longest sleep with nothing due; a guard against a lost wake-up, not the dispatch mechanism.</summary>
    public TimeSpan MaxIdleWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often overdue posts are looked for in PostgreSQL, whatever the index says.</summary>
    public TimeSpan SafetyNetInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How overdue a post must be before the safety net claims it (the index should have fired by then).</summary>
    public TimeSpan SafetyNetGrace { get; set; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>How often expired leases are returned (to queued, or to reconciliation when the call had started).</summary>
    public TimeSpan LeaseRecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the index remembers the last version it applied for a post (orders late, stale writes).</summary>
    public TimeSpan VersionMemory { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The pause before asking again for due posts that PostsService neither claimed nor settled: they are held by
    /// a concurrent claim or change, or PostsService's clock is a little behind ours.
    /// </summary>
    public TimeSpan ContendedPause { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Publish calls in flight towards PublisherService at once.</summary>
    public int MaxConcurrentPublishCalls { get; set; } = 16;

    /// <summary>
    /// Posts per PublishPosts call. Each call opens its runs and records its outcomes in one PostgreSQL transaction
    /// apiece, so a larger batch spreads that cost: 100 drained the benchmark's burst 15-20 % sooner than 50, back to
    /// back (docs/scale.md); 200 was no faster.
    /// </summary>
    public int PublishBatchSize { get; set; } = 100;

    /// <summary>Claimed posts waiting for a publish call; when full, claiming pauses (back-pressure).</summary>
    public int DispatchQueueCapacity { get; set; } = 20_000;
}
