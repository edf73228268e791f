using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>One change to the index: a post due at <see cref="DueAt"/>, or (null) a post to remove, as of <see cref="Version"/>.</summary>
public readonly record struct IndexEntry(string PostId, long Version, DateTimeOffset? DueAt)
{
    /// <summary>The version of a post that no longer exists: newer than any version it ever had.</summary>
    public const long Gone = (1L << 53) - 1;

    public static IndexEntry Upsert(string postId, long version, DateTimeOffset dueAt) => new(postId, version, dueAt);

    public static IndexEntry Remove(string postId, long version) => new(postId, version <= 0 ? Gone : version, null);
}

/// <summary>
/// The Redis sorted sets of queued post ids scored by due time (Unix milliseconds, rounded up so a post is never
/// taken before its due time), one per shard (<see cref="IndexKeys"/>). Only an index: PostgreSQL is the truth, and a
/// marker key per shard tells whether that shard is complete (it vanishes with a FLUSHALL or a restart of its node).
/// Every write names the post's version as read from PostgreSQL, and a write older than the last one applied for
/// that post is ignored: relays and dispatch loops on several replicas may then apply their changes in any order
/// and the index still ends at the latest state (a stale "remove" can never hide a re-queued post).
/// Every script names each key it touches in KEYS, all in one shard's slot, so the same calls run on one Redis and
/// on a Redis Cluster; reads and writes across shards are sent together (pipelined), one command per shard.
/// </summary>
public sealed class DispatchIndex(IConnectionMultiplexer redis, IOptions<SchedulerOptions> options)
{
    private const int ChunkSize = 500;

    // KEYS[1] the shard's sorted set, then one version key per post (KEYS[1 + n] for the n-th triple); ARGV[1] the
    // version keys' lifetime in seconds, then triples (post id, version, score or "" to remove).
    private const string ApplyScript = """
        local applied = 0
        for n = 1, #KEYS - 1 do
          local i = 2 + 3 * (n - 1)
          local id = ARGV[i]
          local version = tonumber(ARGV[i + 1])
          local vkey = KEYS[1 + n]
          local seen = tonumber(redis.call('GET', vkey) or '-1')
          if version >= seen then
            if ARGV[i + 2] == '' then
              redis.call('ZREM', KEYS[1], id)
            else
              redis.call('ZADD', KEYS[1], ARGV[i + 2], id)
            end
            redis.call('SET', vkey, ARGV[i + 1], 'EX', ARGV[1])
            applied = applied + 1
          end
        end
        return applied
        """;

    // KEYS[1] the shard's pending-rebuild key, KEYS[2] its completeness marker; ARGV[1] the rebuild's token, ARGV[2]
    // the shard count the shard was built for.
    private const string CompleteRebuildScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[2], ARGV[2])
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """;

    private readonly SchedulerOptions _options = options.Value;

    public IndexKeys Keys { get; } = new(options.Value.KeyPrefix, options.Value.ShardCount);

    public RedisChannel WakeChannel => Keys.WakeChannel;

    private IDatabase Db => redis.GetDatabase();

    /// <summary>False while the connection to Redis is down: callers skip Redis work instead of waiting on timeouts.</summary>
    public bool IsConnected => redis.IsConnected;

    /// <summary>The index score of a due time: Unix milliseconds, rounded up.</summary>
    public static long Score(DateTimeOffset dueAt)
    {
        var ms = dueAt.ToUnixTimeMilliseconds();
        return dueAt.UtcTicks % TimeSpan.TicksPerMillisecond == 0 ? ms : ms + 1;
    }

    /// <summary>
    /// Applies the entries, each in its post's shard and only if not older than what the index last applied for
    /// that post; returns how many applied. One script call per shard and chunk, all sent at once.
    /// </summary>
    public async Task<long> ApplyAsync(IReadOnlyCollection<IndexEntry> entries)
    {
        var ttl = ((long)Math.Max(1, _options.VersionMemory.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var calls = new List<Task<RedisResult>>();
        foreach (var shard in entries.GroupBy(e => Keys.ShardOf(e.PostId)))
        {
            foreach (var chunk in shard.Chunk(ChunkSize))
            {
                var keys = new RedisKey[1 + chunk.Length];
                var args = new RedisValue[1 + 3 * chunk.Length];
                keys[0] = Keys.Schedule(shard.Key);
                args[0] = ttl;
                for (var i = 0; i < chunk.Length; i++)
                {
                    keys[1 + i] = Keys.Version(shard.Key, chunk[i].PostId);
                    args[1 + 3 * i] = chunk[i].PostId;
                    args[2 + 3 * i] = chunk[i].Version;
                    args[3 + 3 * i] = chunk[i].DueAt is { } due ? Score(due) : RedisValue.EmptyString;
                }
                calls.Add(Db.ScriptEvaluateAsync(ApplyScript, keys, args));
            }
        }
        var applied = await Task.WhenAll(calls);
        return applied.Sum(r => (long)r);
    }

    /// <summary>Up to <paramref name="max"/> ids due at or before <paramref name="now"/> in the given shards, earliest first.</summary>
    public async Task<string[]> DueAsync(IReadOnlyList<int> shards, DateTimeOffset now, int max)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        if (shards.Count == 1)
        {
            var values = await Db.SortedSetRangeByScoreAsync(Keys.Schedule(shards[0]), double.NegativeInfinity, nowMs, take: max);
            return values.Select(v => v.ToString()).ToArray();
        }
        // The earliest `max` of all shards are among each shard's earliest `max`.
        var perShard = await Task.WhenAll(shards.Select(s =>
            Db.SortedSetRangeByScoreWithScoresAsync(Keys.Schedule(s), double.NegativeInfinity, nowMs, take: max)));
        return perShard.SelectMany(e => e).OrderBy(e => e.Score).Take(max).Select(e => e.Element.ToString()).ToArray();
    }

    /// <summary>The earliest due time in the given shards.</summary>
    public async Task<DateTimeOffset?> EarliestAsync(IReadOnlyList<int> shards)
    {
        var firsts = await Task.WhenAll(shards.Select(s => Db.SortedSetRangeByRankWithScoresAsync(Keys.Schedule(s), 0, 0)));
        var scores = firsts.Where(f => f.Length > 0).Select(f => f[0].Score).ToList();
        return scores.Count == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)scores.Min());
    }

    /// <summary>Posts in the whole index (every shard).</summary>
    public async Task<long> CountAsync() =>
        (await Task.WhenAll(Keys.AllShards.Select(s => Db.SortedSetLengthAsync(Keys.Schedule(s))))).Sum();

    /// <summary>The shards among <paramref name="shards"/> not marked complete for the current shard count.</summary>
    public async Task<int[]> IncompleteAsync(IReadOnlyList<int> shards)
    {
        var markers = await Task.WhenAll(shards.Select(s => Db.StringGetAsync(Keys.Complete(s))));
        var expected = Keys.ShardCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return shards.Where((_, i) => markers[i].ToString() != expected).ToArray();
    }

    /// <summary>Notes that a rebuild named <paramref name="token"/> of these shards has started; a FLUSHALL meanwhile erases the note.</summary>
    public Task BeginRebuildAsync(IReadOnlyList<int> shards, string token) =>
        Task.WhenAll(shards.Select(s => Db.StringSetAsync(Keys.Rebuilding(s), token, TimeSpan.FromMinutes(10))));

    /// <summary>
    /// Marks each shard complete unless it was flushed (or another rebuild of it started) since
    /// <see cref="BeginRebuildAsync"/>: then the entries written before the flush are gone and the next pass must
    /// rebuild it again. Returns the shards it could not mark.
    /// </summary>
    public async Task<int[]> CompleteRebuildAsync(IReadOnlyList<int> shards, string token)
    {
        var done = await Task.WhenAll(shards.Select(s =>
            Db.ScriptEvaluateAsync(CompleteRebuildScript, [Keys.Rebuilding(s), Keys.Complete(s)], [token, Keys.ShardCount])));
        return shards.Where((_, i) => (long)done[i] != 1).ToArray();
    }

    /// <summary>Empties every shard and drops its marker (one DEL per shard: a shard's keys share a slot).</summary>
    public Task ClearAsync() => Task.WhenAll(Keys.AllShards.Select(s => Db.KeyDeleteAsync([Keys.Schedule(s), Keys.Complete(s)])));

    public Task PublishWakeAsync() => redis.GetSubscriber().PublishAsync(WakeChannel, "1", CommandFlags.FireAndForget);
}
