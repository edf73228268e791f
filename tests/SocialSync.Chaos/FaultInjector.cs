using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Chaos;

public enum FaultKind
{
    KillPostsService,
    KillPublisherService,
    KillScheduler,
    KillOneSchedulerReplica,
    FlushRedis,
    StopRedis,
    RestartPostgres,
    FailOverPostgres,
    Emulator500s,
    Emulator429s,
    EmulatorSlow,
    ExpiredToken,
    CommitThenDrop,
}

/// <summary>One applied fault: when it began, when the system was whole again, and what it touched.</summary>
public sealed class FaultRecord
{
    public required FaultKind Kind { get; init; }
    public required DateTimeOffset PlannedAt { get; init; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset EndedAt { get; set; }
    public string Detail { get; set; } = "";
    public string? Error { get; set; }
    /// <summary>For a fault scoped to one account: recovery counts publishes to that account only.</summary>
    public string? Account { get; set; }
}

/// <summary>
/// Applies every fault kind <see cref="ChaosOptions.FaultRounds"/> times at seeded moments in the window. Faults on
/// different parts overlap freely; two on the same part (or two emulator faults) wait for each other.
/// </summary>
public sealed class FaultInjector(ChaosOptions options, SocialSyncSystem system, Workload workload, TextWriter log)
{
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromSeconds(120);
    private readonly Random _random = new(options.Seed * 7919 + 1);
    private readonly Dictionary<string, SemaphoreSlim> _locks = [];
    private readonly HashSet<string> _accountsUnderTokenFault = [];
    private DateTimeOffset _windowStart;

    public List<FaultRecord> Faults { get; } = [];

    public void Plan(DateTimeOffset windowStart)
    {
        _windowStart = windowStart;
        var window = options.Window;
        for (var round = 0; round < options.FaultRounds; round++)
        {
            foreach (var kind in Enum.GetValues<FaultKind>())
            {
                var at = windowStart + window * (0.05 + 0.75 * _random.NextDouble());
                Faults.Add(new FaultRecord { Kind = kind, PlannedAt = at });
            }
        }
        Faults.Sort((a, b) => a.PlannedAt.CompareTo(b.PlannedAt));
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var operatorStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reconnector = ReconnectLoopAsync(operatorStop.Token);
        await Task.WhenAll(Faults.Select(f => ApplyAsync(f, cancellationToken)));
        await operatorStop.CancelAsync();
        await reconnector;
    }

    private async Task ApplyAsync(FaultRecord fault, CancellationToken cancellationToken)
    {
        await Workload.DelayUntilAsync(fault.PlannedAt, cancellationToken);
        var gate = Lock(TargetOf(fault.Kind));
        await gate.WaitAsync(cancellationToken);
        try
        {
            fault.StartedAt = DateTimeOffset.UtcNow;
            log.WriteLine($"[{Offset(fault.StartedAt)}] fault: {fault.Kind}");
            await ApplyCoreAsync(fault, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            fault.Error = ex.Message.Split('\n')[0];
            log.WriteLine($"[{Offset(DateTimeOffset.UtcNow)}] fault {fault.Kind} failed: {ex.Message}");
        }
        finally
        {
            fault.EndedAt = DateTimeOffset.UtcNow;
            log.WriteLine($"[{Offset(fault.EndedAt)}] fault over: {fault.Kind} ({(fault.EndedAt - fault.StartedAt).TotalSeconds:0.0} s) {fault.Detail}");
            gate.Release();
        }
    }

    private async Task ApplyCoreAsync(FaultRecord fault, CancellationToken cancellationToken)
    {
        var emulatorFor = options.EmulatorFaultDuration;
        switch (fault.Kind)
        {
            case FaultKind.KillPostsService:
                await KillAndRestartAsync(system.Posts, TimeSpan.FromMilliseconds(_random.Next(0, 3000)), fault, cancellationToken);
                break;
            case FaultKind.KillPublisherService:
                await KillAndRestartAsync(system.Publisher, TimeSpan.FromMilliseconds(_random.Next(0, 3000)), fault, cancellationToken);
                break;
            case FaultKind.KillScheduler:
                await KillAndRestartAsync(system.Schedulers[0], TimeSpan.FromMilliseconds(_random.Next(0, 3000)), fault, cancellationToken);
                break;
            case FaultKind.KillOneSchedulerReplica:
                await KillAndRestartAsync(system.Schedulers[^1], options.SchedulerOutage, fault, cancellationToken);
                break;
            case FaultKind.FlushRedis when system.Cluster is { } cluster:
                await cluster.FlushAllAsync();
                fault.Detail = "FLUSHALL on every master of the cluster";
                break;
            case FaultKind.FlushRedis:
                await system.Redis.FlushAllAsync();
                fault.Detail = "FLUSHALL";
                break;
            case FaultKind.StopRedis when system.Cluster is { } cluster:
                await KillRedisMasterAsync(cluster, fault, cancellationToken);
                break;
            case FaultKind.StopRedis:
                await system.Redis.StopAsync(crash: true);
                await Task.Delay(options.RedisOutage, cancellationToken);
                await system.Redis.RestartAsync();
                fault.Detail = $"down {options.RedisOutage.TotalSeconds:0} s, back empty";
                break;
            case FaultKind.RestartPostgres:
                await system.Postgres.RestartAsync(crash: true);
                fault.Detail = "SIGKILL, crash recovery";
                break;
            case FaultKind.FailOverPostgres:
                var readOnly = await system.FailOverPostgresAsync();
                fault.Detail = $"primary SIGKILLed, standby promoted ({readOnly.TotalMilliseconds:0} ms without a primary), a new standby made";
                break;
            case FaultKind.Emulator500s:
                await ArmAsync(fault, emulatorFor, cancellationToken,
                    new { match = new { method = "POST" }, code = 1, status = 500, isTransient = true, times = 0 });
                fault.Detail = $"every POST answered 500 (code 1) for {emulatorFor.TotalSeconds:0} s" + fault.Detail;
                break;
            case FaultKind.Emulator429s:
                await ArmAsync(fault, emulatorFor, cancellationToken,
                    new { match = new { method = "POST", pathRegex = "/messages$" }, preset = "wa_throughput", retryAfterSeconds = 3, estimatedTimeToRegainAccessMinutes = 1, times = 0 },
                    new { match = new { method = "POST", pathRegex = "/media(_publish)?$" }, preset = "ig_rate_limit", retryAfterSeconds = 3, estimatedTimeToRegainAccessMinutes = 1, times = 0 });
                fault.Detail = $"every POST answered 429 with usage headers and Retry-After: 3 for {emulatorFor.TotalSeconds:0} s" + fault.Detail;
                break;
            case FaultKind.EmulatorSlow:
                await ArmAsync(fault, emulatorFor, cancellationToken,
                    new { match = new { method = "POST" }, delayMs = 2500, times = 0 });
                fault.Detail = $"every POST answered 2.5 s late for {emulatorFor.TotalSeconds:0} s" + fault.Detail;
                break;
            case FaultKind.ExpiredToken:
                // The channel of the next post due, so the expired token is met by real publish attempts.
                var soon = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1);
                var victim = workload.Posts.Where(p => p.PublishAt > soon && p.Mutation != Mutation.Cancel).MinBy(p => p.PublishAt)?.Channel
                    ?? workload.Channels[_random.Next(workload.Channels.Count)];
                fault.Account = victim.AccountId;
                lock (_accountsUnderTokenFault)
                {
                    _accountsUnderTokenFault.Add(victim.AccountId);
                }
                try
                {
                    await ArmAsync(fault, emulatorFor, cancellationToken,
                        new { match = new { account = victim.AccountId }, preset = "token_expired", times = 0 });
                }
                finally
                {
                    lock (_accountsUnderTokenFault)
                    {
                        _accountsUnderTokenFault.Remove(victim.AccountId);
                    }
                }
                fault.Detail = $"{victim.Platform} account {victim.AccountId}: token expired (190/463) for {emulatorFor.TotalSeconds:0} s, then reconnected" + fault.Detail;
                break;
            case FaultKind.CommitThenDrop:
                var times = Math.Max(2, options.Posts / 300);
                await ArmAsync(fault, emulatorFor, cancellationToken,
                    new { match = new { method = "POST" }, drop = "after_commit", times });
                fault.Detail = $"the next {times} POSTs applied, then the connection reset" + fault.Detail;
                break;
        }
    }

    private async Task KillAndRestartAsync(ServiceProcess service, TimeSpan down, FaultRecord fault, CancellationToken cancellationToken)
    {
        service.Kill();
        await Task.Delay(down, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await service.StartAsync(RestartTimeout);
                break;
            }
            catch (Exception ex) when (attempt < 3 && ex is InvalidOperationException or TimeoutException)
            {
                log.WriteLine($"  {service.Name} did not come back (attempt {attempt}): {ex.Message.Split('\n')[0]}");
                service.Kill();
            }
        }
        fault.Detail = $"{service.Name}: kill -9, down {down.TotalSeconds:0.0} s, healthy again";
    }

    private async Task ArmAsync(FaultRecord fault, TimeSpan duration, CancellationToken cancellationToken, params object[] faults)
    {
        var ids = new List<string>();
        foreach (var body in faults)
        {
            ids.Add(await system.Emulator.AddFaultAsync(body));
        }
        await Task.Delay(duration, cancellationToken);
        var armed = await system.Emulator.Http.GetFromJsonAsync<JsonElement>("/__emu/faults", cancellationToken);
        var hits = (armed.TryGetProperty("data", out var data) ? data.EnumerateArray() : armed.EnumerateArray())
            .Where(f => ids.Contains(f.GetProperty("id").ToString()))
            .Sum(f => f.TryGetProperty("hits", out var h) ? h.GetInt64() : 0);
        fault.Detail = $"; {hits} platform requests hit it";
        foreach (var id in ids)
        {
            // A fault with a firing count may already be used up and gone; either way it is disarmed.
            using var response = await system.Emulator.Http.DeleteAsync($"/__emu/faults/{Uri.EscapeDataString(id)}", cancellationToken);
        }
    }

    /// <summary>
    /// The operator's side of an expired token: once the fault is over, any channel flagged needs_reconnect gets a
    /// fresh token (UpdateChannel; straight in the database while that RPC does not exist yet).
    /// </summary>
    private async Task ReconnectLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ReconnectFlaggedChannelsAsync(cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or Grpc.Core.RpcException or TimeoutException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        }
    }

    public async Task<int> ReconnectFlaggedChannelsAsync(CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync(cancellationToken);
        var flagged = new List<Guid>();
        await using (var query = new NpgsqlCommand("select id from channels where state = 'needs_reconnect'", connection))
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                flagged.Add(reader.GetGuid(0));
            }
        }
        var reconnected = 0;
        foreach (var id in flagged)
        {
            var channel = workload.Channels.FirstOrDefault(c => c.ChannelId == id.ToString());
            if (channel is null)
            {
                continue;
            }
            lock (_accountsUnderTokenFault)
            {
                if (_accountsUnderTokenFault.Contains(channel.AccountId))
                {
                    continue;
                }
            }
            await ReconnectAsync(channel, connection, cancellationToken);
            reconnected++;
            log.WriteLine($"[{Offset(DateTimeOffset.UtcNow)}] operator: reconnected {channel.Platform} account {channel.AccountId}");
        }
        return reconnected;
    }

    private async Task ReconnectAsync(ChaosChannel channel, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            var request = new UpdateChannelRequest
            {
                Id = channel.ChannelId,
                AccessToken = $"EAAchaos-rotated-{Guid.NewGuid():N}",
                Paused = false,
                UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "access_token", "paused" } },
            };
            await system.ChannelClient.UpdateChannelAsync(request, channel.Auth, DateTime.UtcNow.AddSeconds(10), cancellationToken);
        }
        catch (Grpc.Core.RpcException ex)
        {
            if (ex.StatusCode != Grpc.Core.StatusCode.Unimplemented)
            {
                log.WriteLine($"  operator: UpdateChannel answered {ex.StatusCode} ({ex.Status.Detail}); reconnecting in the database");
            }
            await using var update = new NpgsqlCommand(
                "update channels set state = 'active', state_reason = null where id = @id and state = 'needs_reconnect'", connection);
            update.Parameters.AddWithValue("id", Guid.Parse(channel.ChannelId));
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A cluster's form of a Redis crash: SIGKILL of the master of a random slot. Its replica takes the slots over
    /// (data kept up to the last replicated write); the old master stays down for <see cref="ChaosOptions.RedisOutage"/>,
    /// then comes back empty and rejoins as the new master's replica.
    /// </summary>
    private async Task KillRedisMasterAsync(RedisCluster cluster, FaultRecord fault, CancellationToken cancellationToken)
    {
        var killed = await cluster.KillMasterOfAsync(_random.Next(0, 16384));
        var killedAt = DateTimeOffset.UtcNow;
        var promoted = await cluster.WaitForFailoverAsync(killed, RestartTimeout);
        var failover = DateTimeOffset.UtcNow - killedAt;
        await Task.Delay(options.RedisOutage, cancellationToken);
        await cluster.RestartAsync(killed, RestartTimeout);
        var slots = string.Join(",", killed.Slots.Select(r => $"{r.From}-{r.To}"));
        fault.Detail = $"master on port {killed.Port} (slots {slots}) SIGKILLed, its replica on port {promoted.Port} took over in "
            + $"{failover.TotalSeconds:0.0} s; the old master down {options.RedisOutage.TotalSeconds:0} s, back empty as a replica";
    }

    private SemaphoreSlim Lock(string target)
    {
        lock (_locks)
        {
            if (!_locks.TryGetValue(target, out var gate))
            {
                gate = new SemaphoreSlim(1, 1);
                _locks[target] = gate;
            }
            return gate;
        }
    }

    private static string TargetOf(FaultKind kind) => kind switch
    {
        FaultKind.KillPostsService => "posts",
        FaultKind.KillPublisherService => "publisher",
        FaultKind.KillScheduler => "scheduler-0",
        FaultKind.KillOneSchedulerReplica => "scheduler-last",
        FaultKind.FlushRedis or FaultKind.StopRedis => "redis",
        FaultKind.RestartPostgres or FaultKind.FailOverPostgres => "postgres",
        // One emulator fault at a time: the first armed fault that matches a request answers it, so two at once
        // would hide one another.
        _ => "emulator",
    };

    private string Offset(DateTimeOffset at) => $"{(at - _windowStart).TotalSeconds,6:0.0}s";
}
