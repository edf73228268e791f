using StackExchange.Redis;

namespace SocialSync.Testing;

/// <summary>
/// Reads the scheduler's Redis index directly, as tests must see it: with the default key prefix and shard count
/// (Scheduler:KeyPrefix = socialsync, Scheduler:ShardCount = 16), one key per shard, hash-tagged
/// (<c>socialsync:{shard-N}:schedule</c>), so the same reads work on one Redis and on a Redis Cluster.
/// </summary>
public static class SchedulerIndex
{
    public const int ShardCount = 16;

    public static RedisKey Schedule(int shard) => $"socialsync:{{shard-{shard}}}:schedule";

    public static RedisKey CompleteMarker(int shard) => $"socialsync:{{shard-{shard}}}:complete";

    public static IEnumerable<int> Shards => Enumerable.Range(0, ShardCount);

    /// <summary>Every post id in the index (all shards).</summary>
    public static async Task<HashSet<string>> IndexedAsync(IDatabase database)
    {
        var shards = await Task.WhenAll(Shards.Select(s => database.SortedSetRangeByRankAsync(Schedule(s))));
        return shards.SelectMany(ids => ids).Select(id => id.ToString()).ToHashSet();
    }

    /// <summary>How many of <paramref name="ids"/> the index holds.</summary>
    public static async Task<int> IndexedCountAsync(string connectionString, IEnumerable<string> ids)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{connectionString},abortConnect=false,connectTimeout=2000");
        var indexed = await IndexedAsync(redis.GetDatabase());
        return ids.Count(indexed.Contains);
    }

    /// <summary>Posts in the index, all shards together.</summary>
    public static async Task<long> LengthAsync(IDatabase database) =>
        (await Task.WhenAll(Shards.Select(s => database.SortedSetLengthAsync(Schedule(s))))).Sum();

    /// <summary>True once every shard has been rebuilt (its completeness marker is there).</summary>
    public static async Task<bool> IsCompleteAsync(string connectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{connectionString},abortConnect=false,connectTimeout=2000");
        var database = redis.GetDatabase();
        var markers = await Task.WhenAll(Shards.Select(s => database.KeyExistsAsync(CompleteMarker(s))));
        return markers.All(m => m);
    }
}
