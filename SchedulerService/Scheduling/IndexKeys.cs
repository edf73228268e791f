using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// The index's Redis keys. The index is split into <see cref="ShardCount"/> shards; every key of one shard carries
/// the hash tag <c>{shard-N}</c>, so on a Redis Cluster a shard's sorted set, its version keys, its markers and its
/// owner lease all live in one slot and a script may touch them together. A post belongs to the shard its id hashes
/// to, on every replica (<see cref="ShardOf"/> is stable across processes and machines).
/// </summary>
public sealed class IndexKeys(string prefix, int shardCount)
{
    public int ShardCount { get; } = shardCount > 0 ? shardCount : throw new ArgumentOutOfRangeException(nameof(shardCount), "at least one shard");

    /// <summary>Every shard: 0 … ShardCount − 1.</summary>
    public IReadOnlyList<int> AllShards { get; } = Enumerable.Range(0, shardCount > 0 ? shardCount : 1).ToArray();

    /// <summary>The shard's sorted set of post ids scored by due time.</summary>
    public RedisKey Schedule(int shard) => $"{Tag(shard)}:schedule";

    /// <summary>The last version applied for a post (orders late, stale writes), in its shard's slot.</summary>
    public RedisKey Version(int shard, string postId) => $"{Tag(shard)}:v:{postId}";

    /// <summary>Exists (holding the shard count it was built for) only after a full rebuild of the shard.</summary>
    public RedisKey Complete(int shard) => $"{Tag(shard)}:complete";

    /// <summary>The token of a rebuild in progress; a flush of the shard's node erases it.</summary>
    public RedisKey Rebuilding(int shard) => $"{Tag(shard)}:rebuilding";

    /// <summary>The scheduler instance that dispatches the shard, with a lease (PX).</summary>
    public RedisKey Owner(int shard) => $"{Tag(shard)}:owner";

    /// <summary>The live schedulers, scored by when their membership lapses (Redis's clock).</summary>
    public RedisKey Members => $"{prefix}:schedulers";

    public RedisChannel WakeChannel => RedisChannel.Literal($"{prefix}:schedule:wake");

    /// <summary>The shard of a post: FNV-1a of its id, modulo the shard count.</summary>
    public int ShardOf(string postId)
    {
        var hash = 2166136261u;
        foreach (var c in postId)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash % (uint)ShardCount);
    }

    private string Tag(int shard) => $"{prefix}:{{shard-{shard}}}";
}
