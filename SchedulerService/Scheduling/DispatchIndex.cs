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
/// The Redis sorted set of queued post ids scored by due time (Unix milliseconds, rounded up so a post is never
/// taken before its due time). Only an index: PostgreSQL is the truth, and a marker key tells whether the index is
/// complete (it vanishes with a FLUSHALL or a restart).
/// Every write names the post's version as read from PostgreSQL, and a write older than the last one applied for
/// that post is ignored: relays and dispatch loops on several replicas may then apply their changes in any order
/// and the index still ends at the latest state (a stale "remove" can never hide a re-queued post).
/// </summary>
public sealed class DispatchIndex(IConnectionMultiplexer redis, IOptions<SchedulerOptions> options)
{
    private const int ChunkSize = 500;

    // KEYS[1] the sorted set; ARGV[1] the version key prefix, ARGV[2] its lifetime in seconds, then triples
    // (post id, version, score or "" to remove).
    private const string ApplyScript = """
        local applied = 0
        for i = 3, #ARGV, 3 do
          local id = ARGV[i]
          local version = tonumber(ARGV[i + 1])
          local vkey = ARGV[1] .. id
          local seen = tonumber(redis.call('GET', vkey) or '-1')
          if version >= seen then
            if ARGV[i + 2] == '' then
              redis.call('ZREM', KEYS[1], id)
            else
              redis.call('ZADD', KEYS[1], ARGV[i + 2], id)
            end
            redis.call('SET', vkey, ARGV[i + 1], 'EX', ARGV[2])
            applied = applied + 1
          end
        end
        return applied
        """;

    // KEYS[1] the pending-rebuild key, KEYS[2] the completeness marker; ARGV[1] the rebuild's token.
    private const string CompleteRebuildScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[2], ARGV[1])
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """;

    private readonly SchedulerOptions _options = options.Value;
    private readonly RedisKey _schedule = $"{options.Value.KeyPrefix}:schedule";
    private readonly RedisKey _marker = $"{options.Value.KeyPrefix}:schedule:complete";
    private readonly RedisKey _pending = $"{options.Value.KeyPrefix}:schedule:rebuilding";
    private readonly string _versionPrefix = $"{options.Value.KeyPrefix}:schedule:v:";

    public RedisChannel WakeChannel { get; } = RedisChannel.Literal($"{options.Value.KeyPrefix}:schedule:wake");

    private IDatabase Db => redis.GetDatabase();

    /// <summary>False while the connection to Redis is down: callers skip Redis work instead of waiting on timeouts.</summary>
    public bool IsConnected => redis.IsConnected;

    /// <summary>The index score of a due time: Unix milliseconds, rounded up.</summary>
    public static long Score(DateTimeOffset dueAt)
    {
        var ms = dueAt.ToUnixTimeMilliseconds();
        return dueAt.UtcTicks % TimeSpan.TicksPerMillisecond == 0 ? ms : ms + 1;
    }

    /// <summary>Applies the entries, each only if not older than what the index last applied for its post; returns how many applied.</summary>
    public async Task<long> ApplyAsync(IReadOnlyCollection<IndexEntry> entries)
    {
        long applied = 0;
        var ttl = ((long)Math.Max(1, _options.VersionMemory.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var chunk in entries.Chunk(ChunkSize))
        {
            var args = new RedisValue[2 + 3 * chunk.Length];
            args[0] = _versionPrefix;
            args[1] = ttl;
            for (var i = 0; i < chunk.Length; i++)
            {
                args[2 + 3 * i] = chunk[i].PostId;
                args[3 + 3 * i] = chunk[i].Version;
                args[4 + 3 * i] = chunk[i].DueAt is { } due ? Score(due) : RedisValue.EmptyString;
            }
            applied += (long)await Db.ScriptEvaluateAsync(ApplyScript, [_schedule], args);
        }
        return applied;
    }

    /// <summary>Up to <paramref name="max"/> ids due at or before <paramref name="now"/>, earliest first.</summary>
    public async Task<string[]> DueAsync(DateTimeOffset now, int max)
    {
        var values = await Db.SortedSetRangeByScoreAsync(_schedule, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), take: max);
        return values.Select(v => v.ToString()).ToArray();
    }

    public async Task<DateTimeOffset?> EarliestAsync()
    {
        var first = await Db.SortedSetRangeByRankWithScoresAsync(_schedule, 0, 0);
        return first.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds((long)first[0].Score);
    }

    public Task<long> CountAsync() => Db.SortedSetLengthAsync(_schedule);

    public Task<bool> IsCompleteAsync() => Db.KeyExistsAsync(_marker);

    /// <summary>Notes that a rebuild named <paramref name="token"/> has started; a FLUSHALL meanwhile erases the note.</summary>
    public Task BeginRebuildAsync(string token) => Db.StringSetAsync(_pending, token, TimeSpan.FromMinutes(10));

    /// <summary>
    /// Marks the index complete, unless it was flushed (or another rebuild started) since <see cref="BeginRebuildAsync"/>:
    /// then the entries written before the flush are gone and the next pass must rebuild again.
    /// </summary>
    public async Task<bool> CompleteRebuildAsync(string token) =>
        (long)await Db.ScriptEvaluateAsync(CompleteRebuildScript, [_pending, _marker], [token]) == 1;

    public Task ClearAsync() => Db.KeyDeleteAsync([_schedule, _marker]);

    public Task PublishWakeAsync() => redis.GetSubscriber().PublishAsync(WakeChannel, "1", CommandFlags.FireAndForget);
}
