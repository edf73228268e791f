namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// The index shards this scheduler dispatches, as <see cref="ShardLeases"/> last confirmed them in Redis. Read by the
/// dispatch loop (which reads only these shards) and by the safety net (which rebuilds only these shards).
/// </summary>
public sealed class OwnedShards
{
    private int[] _shards;

    public OwnedShards() => _shards = [];

    /// <summary>A fixed set, for a scheduler that owns these shards without leases (tests of the loop).</summary>
    public OwnedShards(IEnumerable<int> shards) => _shards = shards.Order().ToArray();

    public IReadOnlyList<int> Current => Volatile.Read(ref _shards);

    /// <summary>Replaces the set; true when a shard was gained (its due posts must be looked at now).</summary>
    public bool Replace(IEnumerable<int> shards)
    {
        var next = shards.Order().ToArray();
        var previous = Interlocked.Exchange(ref _shards, next);
        return next.Except(previous).Any();
    }
}
