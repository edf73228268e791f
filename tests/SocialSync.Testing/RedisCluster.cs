using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace SocialSync.Testing;

/// <summary>
/// A real Redis Cluster on loopback ports: redis-server processes in cluster mode (3 masters with 1 replica each
/// by default), joined by <c>redis-cli --cluster create … --cluster-replicas 1 --cluster-yes</c>, torn down (and their
/// folder deleted) at the end. A test may kill a master; its replica takes its slots over after the node timeout.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    /// <summary>How long a master may be unreachable before its replica is promoted (cluster-node-timeout).</summary>
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<int, ManagedProcess> _nodes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"socialsync-redis-cluster-{Guid.NewGuid():N}");

    private RedisCluster(IReadOnlyList<int> ports) => Ports = ports;

    /// <summary>Every node's port, masters and replicas.</summary>
    public IReadOnlyList<int> Ports { get; }

    /// <summary>Every node: the client discovers the cluster's layout from any of them.</summary>
    public string ConnectionString => string.Join(",", Ports.Select(p => $"127.0.0.1:{p}"));

    public static async Task<RedisCluster> StartAsync(int masters = 3, int replicasPerMaster = 1)
    {
        var ports = new List<int>();
        while (ports.Count < masters * (1 + replicasPerMaster))
        {
            // Each node also listens on its cluster bus, port + 10000.
            var port = Testing.Ports.Free();
            if (!ports.Contains(port) && IsFree(port + 10_000))
            {
                ports.Add(port);
            }
        }
        var cluster = new RedisCluster(ports);
        try
        {
            await cluster.CreateAsync(replicasPerMaster);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task CreateAsync(int replicasPerMaster)
    {
        Directory.CreateDirectory(_directory);
        foreach (var port in Ports)
        {
            StartNode(port);
        }
        await Task.WhenAll(Ports.Select(p => Testing.Ports.WaitUntilListeningAsync(p, TimeSpan.FromSeconds(20), () => !_nodes[p].HasExited)));

        var create = await RedisCliAsync(["--cluster", "create", .. Ports.Select(p => $"127.0.0.1:{p}"),
            "--cluster-replicas", replicasPerMaster.ToString(CultureInfo.InvariantCulture), "--cluster-yes"]);
        if (!create.Contains("[OK] All 16384 slots covered", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli --cluster create failed:{Environment.NewLine}{create}");
        }
        await Polling.UntilAsync(async () =>
        {
            foreach (var port in Ports)
            {
                if (!(await RedisCliAsync(["-p", Port(port), "cluster", "info"])).Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    return false;
                }
            }
            // Every replica has its master's data: a kill then loses nothing written before it.
            var nodes = await NodesAsync();
            foreach (var replica in nodes.Where(n => !n.IsMaster))
            {
                if (!(await RedisCliAsync(["-p", Port(replica.Port), "info", "replication"])).Contains("master_link_status:up", StringComparison.Ordinal))
                {
                    return false;
                }
            }
            return nodes.Count(n => n.IsMaster) * (1 + replicasPerMaster) == Ports.Count;
        }, ok => ok, TimeSpan.FromSeconds(60), "the cluster to be up with every replica in sync");
    }

    /// <summary>A node's redis-server; its nodes-PORT.conf keeps its identity and the cluster's layout across a restart.</summary>
    private void StartNode(int port)
    {
        var p = Port(port);
        _nodes[port] = ManagedProcess.Start($"redis-{port}", "redis-server",
        [
            "--port", p, "--bind", "127.0.0.1", "--dir", _directory,
            "--cluster-enabled", "yes", "--cluster-config-file", $"nodes-{p}.conf",
            "--cluster-node-timeout", ((int)NodeTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--save", "", "--appendonly", "no",
        ]);
    }

    /// <summary>
    /// Starts a killed node again, as an operator would: it comes back empty (no persistence), rejoins under its old
    /// identity, finds its slots served by the replica promoted meanwhile, and becomes that master's replica. Returns
    /// once it is one, in sync, so the shard can survive the loss of its master again.
    /// </summary>
    public async Task RestartAsync(Node killed, TimeSpan timeout)
    {
        await _nodes[killed.Port].DisposeAsync();
        StartNode(killed.Port);
        await Testing.Ports.WaitUntilListeningAsync(killed.Port, TimeSpan.FromSeconds(20), () => !_nodes[killed.Port].HasExited);
        await Polling.UntilAsync(async () =>
        {
            var self = (await NodesAsync()).SingleOrDefault(n => n.Port == killed.Port);
            return self is { IsMaster: false, Failed: false }
                && (await RedisCliAsync(["-p", Port(killed.Port), "info", "replication"])).Contains("master_link_status:up", StringComparison.Ordinal);
        }, rejoined => rejoined, timeout, $"the node on port {killed.Port} to rejoin as a replica in sync");
    }

    /// <summary>A node as CLUSTER NODES describes it.</summary>
    public sealed record Node(string Id, int Port, bool IsMaster, bool Failed, string MasterId, IReadOnlyList<(int From, int To)> Slots)
    {
        public bool Serves(int slot) => Slots.Any(r => slot >= r.From && slot <= r.To);
    }

    /// <summary>The cluster's layout, as a live node sees it.</summary>
    public async Task<IReadOnlyList<Node>> NodesAsync()
    {
        var live = Ports.First(p => _nodes.TryGetValue(p, out var node) && !node.HasExited);
        var text = await RedisCliAsync(["-p", Port(live), "cluster", "nodes"]);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
        {
            var fields = line.Split(' ');
            var port = int.Parse(fields[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
            var flags = fields[2].Split(',');
            var slots = fields.Skip(8).Where(f => !f.StartsWith('[')).Select(f =>
            {
                var range = f.Split('-');
                return (int.Parse(range[0], CultureInfo.InvariantCulture), int.Parse(range[^1], CultureInfo.InvariantCulture));
            }).ToList();
            return new Node(fields[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), fields[3], slots);
        }).ToList();
    }

    /// <summary>The slot of a key (CLUSTER KEYSLOT, as the cluster computes it).</summary>
    public async Task<int> SlotOfAsync(string key) =>
        int.Parse((await RedisCliAsync(["-p", Port(Ports[0]), "cluster", "keyslot", key])).Trim(), CultureInfo.InvariantCulture);

    /// <summary>kill -9 of the master serving <paramref name="slot"/>; returns it as it was.</summary>
    public async Task<Node> KillMasterOfAsync(int slot)
    {
        var master = (await NodesAsync()).Single(n => n.IsMaster && !n.Failed && n.Serves(slot));
        _nodes[master.Port].Kill();
        return master;
    }

    /// <summary>Waits until a live master serves every slot the killed one did and the cluster is ok again.</summary>
    public async Task<Node> WaitForFailoverAsync(Node killed, TimeSpan timeout)
    {
        var promoted = await Polling.UntilAsync(async () =>
        {
            var nodes = await NodesAsync();
            var successor = nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && n.Port != killed.Port && killed.Slots.All(r => n.Serves(r.From)));
            return successor is not null
                && (await RedisCliAsync(["-p", Port(successor.Port), "cluster", "info"])).Contains("cluster_state:ok", StringComparison.Ordinal)
                ? successor : null;
        }, successor => successor is not null, timeout, $"a replica to take over the slots of the master on port {killed.Port}");
        return promoted!;
    }

    /// <summary>FLUSHALL on every master (each holds only its own slots).</summary>
    public async Task FlushAllAsync()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true");
        foreach (var server in mux.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await server.FlushAllDatabasesAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            node.Kill();
            await node.DisposeAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static async Task<string> RedisCliAsync(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return await output + await error;
    }
}
