using Microsoft.Extensions.Options;
using SocialSync.ServiceDefaults;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Divides the index's shards among the live schedulers, so each due post is read and claimed by one of them and no
/// scheduler reads every shard. Every <see cref="SchedulerOptions.ShardRenewInterval"/> a scheduler renews its
/// membership (a sorted set scored by Redis's own clock, so the schedulers' clocks do not matter), reads the live
/// members, takes the shards that fall to it (shard s goes to the (s mod n)-th member in name order) and gives up
/// the others. A shard is held by a lease key in its own slot (SET PX, renewed only by its holder): a scheduler that
/// joins gets its share once the others give it up (a renewal later); one that dies keeps its shards until its
/// lease and membership lapse (<see cref="SchedulerOptions.ShardLease"/>), and meanwhile the safety net claims their
/// overdue posts from PostgreSQL. Leases only spread the work: a claim is SQL and fenced, so a shard read by two
/// schedulers for a moment never sends a post twice.
/// </summary>
public sealed partial class ShardLeases(
    IConnectionMultiplexer redis,
    DispatchIndex index,
    OwnedShards owned,
    WakeSignal wake,
    SchedulerState state,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<ShardLeases> log) : BackgroundService
{
    // KEYS[1] the members; ARGV[1] this scheduler, ARGV[2] the membership's lifetime in ms. Returns the live members.
    private const string HeartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        return redis.call('ZRANGE', KEYS[1], 0, -1)
        """;

    // KEYS[1] a shard's owner key; ARGV[1] this scheduler, ARGV[2] the lease in ms. Takes a free shard or renews our own.
    private const string HoldScript = """
        local owner = redis.call('GET', KEYS[1])
        if owner == false or owner == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """;

    // KEYS[1] a shard's owner key; ARGV[1] this scheduler. Gives the shard up if it is still ours.
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('DEL', KEYS[1])
          return 1
        end
        return 0
        """;

    private readonly SchedulerOptions _options = options.Value;
    private readonly IndexKeys _keys = index.Keys;
    private DateTimeOffset _renewedAt;

    private IDatabase Db => redis.GetDatabase();

    private long LeaseMs => (long)Math.Max(1, _options.ShardLease.TotalMilliseconds);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.ShardRenewInterval, time);
        do
        {
            // A renewal a second, nearly always changing nothing: untraced.
            using (SocialSyncTelemetry.Quiet())
            {
                try
                {
                    await RenewAsync();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Past our lease another scheduler may hold our shards: stop reading them (the safety net and,
                    // once Redis is back, the next renewal take over).
                    if (time.GetUtcNow() - _renewedAt >= _options.ShardLease && owned.Current.Count > 0)
                    {
                        owned.Replace([]);
                        LogLeasesLapsed(ex.Message);
                    }
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Renews the membership, then takes this scheduler's share of the shards and gives up the rest.</summary>
    public async Task RenewAsync()
    {
        if (!redis.IsConnected)
        {
            throw new InvalidOperationException("Redis is not connected.");
        }
        var startedAt = time.GetUtcNow();
        var members = ((RedisValue[])(await Db.ScriptEvaluateAsync(HeartbeatScript, [_keys.Members], [state.InstanceId, LeaseMs]))!)
            .Select(m => m.ToString()).Order(StringComparer.Ordinal).ToList();
        var me = members.IndexOf(state.InstanceId);
        var share = _keys.AllShards.Where(s => s % members.Count == me).ToArray();
        var giveUp = owned.Current.Except(share).ToArray();
        var held = await Task.WhenAll(share.Select(s => Db.ScriptEvaluateAsync(HoldScript, [_keys.Owner(s)], [state.InstanceId, LeaseMs])));
        await Task.WhenAll(giveUp.Select(s => Db.ScriptEvaluateAsync(ReleaseScript, [_keys.Owner(s)], [state.InstanceId])));
        var now = share.Where((_, i) => (long)held[i] == 1).ToArray();
        var previous = owned.Current;
        _renewedAt = startedAt;
        if (owned.Replace(now))
        {
            // Gained shards may hold posts due now.
            wake.Pulse();
        }
        if (!now.SequenceEqual(previous))
        {
            LogShardsChanged(now.Length, members.Count, string.Join(",", now));
        }
    }

    /// <summary>Gives up every shard and the membership, so the other schedulers take them at their next renewal, not after the lease.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var shards = owned.Current;
        owned.Replace([]);
        if (!redis.IsConnected)
        {
            return;
        }
        try
        {
            await Task.WhenAll(shards.Select(s => (Task)Db.ScriptEvaluateAsync(ReleaseScript, [_keys.Owner(s)], [state.InstanceId]))
                .Append(Db.SortedSetRemoveAsync(_keys.Members, state.InstanceId)));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogReleaseFailed(ex.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Dispatching {Count} index shards of the schedulers' {Members} ({Shards})")]
    private partial void LogShardsChanged(int count, int members, string shards);

    [LoggerMessage(2, LogLevel.Warning, "Could not renew the shard leases for longer than a lease; dispatching no shard until Redis answers: {Reason}")]
    private partial void LogLeasesLapsed(string reason);

    [LoggerMessage(3, LogLevel.Warning, "Stopping: could not give up the shard leases; the other schedulers take them when they lapse: {Reason}")]
    private partial void LogReleaseFailed(string reason);
}
