using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// The Redis sorted set of queued post ids scored by due time (Unix milliseconds). Only an index: PostgreSQL is
/// the truth, and a marker key tells whether the index is complete (it vanishes with a FLUSHALL or a restart).
/// </summary>
public sealed class DispatchIndex(IConnectionMultiplexer redis, IOptions<SchedulerOptions> options)
{
    private readonly RedisKey _schedule = $"{options.Value.KeyPrefix}:schedule";
    private readonly RedisKey _marker = $"{options.Value.KeyPrefix}:schedule:complete";

    public RedisChannel WakeChannel { get; } = RedisChannel.Literal($"{options.Value.KeyPrefix}:schedule:wake");

    private IDatabase Db => redis.GetDatabase();

    public async Task ApplyAsync(IReadOnlyCollection<(string PostId, DateTimeOffset DueAt)> upserts, IReadOnlyCollection<string> removals)
    {
        var tasks = new List<Task>(2);
        if (upserts.Count > 0)
        {
            tasks.Add(Db.SortedSetAddAsync(_schedule, upserts.Select(u => new SortedSetEntry(u.PostId, u.DueAt.ToUnixTimeMilliseconds())).ToArray()));
        }
        if (removals.Count > 0)
        {
            tasks.Add(Db.SortedSetRemoveAsync(_schedule, removals.Select(r => (RedisValue)r).ToArray()));
        }
        await Task.WhenAll(tasks);
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

    public Task MarkCompleteAsync(string rebuiltBy) => Db.StringSetAsync(_marker, rebuiltBy);

    public Task ClearAsync() => Db.KeyDeleteAsync([_schedule, _marker]);

    public Task PublishWakeAsync() => redis.GetSubscriber().PublishAsync(WakeChannel, "1", CommandFlags.FireAndForget);
}
