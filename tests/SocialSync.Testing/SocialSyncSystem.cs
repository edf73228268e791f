using Grpc.Net.Client;
using SocialSync.Posts.V1;

namespace SocialSync.Testing;

public sealed record SystemOptions
{
    /// <summary>PostgreSQL with fsync on, for runs that claim durability (chaos, benchmarks).</summary>
    public bool DurablePostgres { get; init; }

    public int SchedulerReplicas { get; init; } = 1;

    /// <summary>PostsService processes; the schedulers and publishers find every one by service discovery.</summary>
    public int PostsReplicas { get; init; } = 1;

    /// <summary>PublisherService processes; the schedulers find every one by service discovery.</summary>
    public int PublisherReplicas { get; init; } = 1;

    /// <summary>
    /// A streaming standby beside PostgreSQL, replicating synchronously, and PostsService connecting through a
    /// connection string that names both (<see cref="SocialSyncSystem.FailOverPostgresAsync"/>).
    /// </summary>
    public bool PostgresStandby { get; init; }

    /// <summary>A Redis Cluster (3 masters, 1 replica each) instead of one redis-server.</summary>
    public bool RedisCluster { get; init; }

    /// <summary>
    /// The emulator sends Meta's status webhooks to PublisherService, signed with this run's app secret, as the AppHost
    /// wires it; off by default, so a lost answer stays unconfirmed unless a test asks for statuses.
    /// </summary>
    public bool MetaWebhooks { get; init; }

    /// <summary>Extra configuration for every service (e.g. Retry__BaseDelay).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
}

/// <summary>
/// The whole of SocialSync as real processes: PostgreSQL, Redis, the Graph API emulator, PostsService,
/// PublisherService and one or more SchedulerService replicas, wired as the AppHost wires them.
/// </summary>
public sealed class SocialSyncSystem : IAsyncDisposable
{
    private readonly List<ServiceProcess> _schedulers = [];
    private readonly List<ServiceProcess> _posts = [];
    private readonly List<ServiceProcess> _publishers = [];
    private readonly List<IAsyncDisposable> _owned = [];
    private GrpcChannel? _postsChannel;

    private SocialSyncSystem()
    {
    }

    /// <summary>The primary PostgreSQL (after a failover, the promoted standby).</summary>
    public PostgresServer Postgres { get; private set; } = null!;

    /// <summary>The streaming standby, with <see cref="SystemOptions.PostgresStandby"/>.</summary>
    public PostgresServer? Standby { get; private set; }
    /// <summary>The one redis-server (null with <see cref="SystemOptions.RedisCluster"/>: see <see cref="Cluster"/>).</summary>
    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The Redis Cluster, with <see cref="SystemOptions.RedisCluster"/>.</summary>
    public RedisCluster? Cluster { get; private set; }

    /// <summary>What the schedulers connect to: the one server, or every node of the cluster.</summary>
    public string RedisConnectionString => Cluster?.ConnectionString ?? Redis.ConnectionString;
    public EmulatorProcess Emulator { get; private set; } = null!;
    /// <summary>The first PostsService replica (the one the tests' clients call).</summary>
    public ServiceProcess Posts => _posts[0];

    /// <summary>The first PublisherService replica (the one Meta's webhooks reach).</summary>
    public ServiceProcess Publisher => _publishers[0];

    public IReadOnlyList<ServiceProcess> PostsReplicas => _posts;
    public IReadOnlyList<ServiceProcess> Publishers => _publishers;
    public IReadOnlyList<ServiceProcess> Schedulers => _schedulers;
    public string Database { get; private set; } = "";

    public GrpcChannel PostsChannel => _postsChannel ??= GrpcChannel.ForAddress(Posts.GrpcAddress);

    public PostService.PostServiceClient PostClient => new(PostsChannel);

    public ChannelService.ChannelServiceClient ChannelClient => new(PostsChannel);

    public WorkspaceService.WorkspaceServiceClient WorkspaceClient => new(PostsChannel);

    public static async Task<SocialSyncSystem> StartAsync(SystemOptions? options = null)
    {
        options ??= new SystemOptions();
        var system = new SocialSyncSystem();
        try
        {
            await system.StartInternalAsync(options);
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    private async Task StartInternalAsync(SystemOptions options)
    {
        Task<object>[] starting =
        [
            Task.Run(async () => (object)await PostgresServer.StartAsync(options.DurablePostgres, synchronousReplication: options.PostgresStandby)),
            Task.Run(async () => options.RedisCluster ? (object)await Testing.RedisCluster.StartAsync() : await RedisServer.StartAsync()),
            Task.Run(async () => (object)await EmulatorProcess.StartAsync()),
        ];
        object[] infrastructure;
        try
        {
            infrastructure = await Task.WhenAll(starting);
        }
        catch
        {
            // One failed to start: the others did, and nothing else would stop them (they outlived the test run).
            _owned.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => (IAsyncDisposable)t.Result));
            throw;
        }
        Postgres = (PostgresServer)infrastructure[0];
        Redis = (infrastructure[1] as RedisServer)!;
        Cluster = infrastructure[1] as RedisCluster;
        Emulator = (EmulatorProcess)infrastructure[2];
        _owned.AddRange([Emulator, (IAsyncDisposable)infrastructure[1], Postgres]);
        if (options.PostgresStandby)
        {
            // Before the database is made: with synchronous replication a commit waits for the standby.
            Standby = await Postgres.StartStandbyAsync();
            _owned.Add(Standby);
        }
        Database = await Postgres.CreateDatabaseAsync();

        var common = new Dictionary<string, string?>(options.Settings);
        for (var i = 0; i < options.PostsReplicas; i++)
        {
            var posts = new ServiceProcess(Replica("posts-service", i, options.PostsReplicas), "PostsService", new Dictionary<string, string?>(common)
            {
                ["ConnectionStrings__postsdb"] = Standby is null
                    ? Postgres.ConnectionString(Database)
                    : PostgresServer.FailoverConnectionString(Database, Postgres, Standby),
            });
            // Owned before it starts: one that never becomes healthy is still stopped at the end.
            _owned.Insert(0, posts);
            _posts.Add(posts);
            // One at a time: each runs the migrations on start, and the first does the work.
            await posts.StartAsync();
        }

        // Service discovery's configuration: every replica's endpoint, which clients take in turn.
        var postsEndpoints = Endpoints("posts-service", _posts);
        for (var i = 0; i < options.PublisherReplicas; i++)
        {
            var publisher = new ServiceProcess(Replica("publisher-service", i, options.PublisherReplicas), "PublisherService",
                new Dictionary<string, string?>(common.Concat(postsEndpoints))
                {
                    ["Meta__GraphApiBaseUrl"] = Emulator.BaseAddress.ToString(),
                });
            _owned.Insert(0, publisher);
            _publishers.Add(publisher);
        }
        await Task.WhenAll(_publishers.Select(p => p.StartAsync()));
        if (options.MetaWebhooks)
        {
            await Emulator.ConfigureWebhooksAsync(new Uri(Publisher.HttpAddress, "/webhooks/meta"), TestTokens.MetaAppSecret);
        }

        for (var i = 0; i < options.SchedulerReplicas; i++)
        {
            var scheduler = new ServiceProcess($"scheduler-service-{i}", "SchedulerService",
                new Dictionary<string, string?>(common.Concat(postsEndpoints).Concat(Endpoints("publisher-service", _publishers)))
                {
                    ["ConnectionStrings__redis"] = RedisConnectionString,
                });
            _owned.Insert(0, scheduler);
            await scheduler.StartAsync();
            _schedulers.Add(scheduler);
        }
    }

    public string PostsConnectionString => Postgres.ConnectionString(Database);

    private static string Replica(string name, int index, int replicas) => replicas == 1 ? name : $"{name}-{index}";

    private static IEnumerable<KeyValuePair<string, string?>> Endpoints(string service, IEnumerable<ServiceProcess> replicas) =>
        replicas.Select((r, i) => new KeyValuePair<string, string?>($"services__{service}__grpc__{i}", r.GrpcAddress.ToString().TrimEnd('/')));

    /// <summary>
    /// The failover drill: the primary is killed (SIGKILL), the standby promoted, and a new standby made from it on
    /// the old primary's port (a fresh base backup, as the old primary's data may hold commits the new one never
    /// had), so the connection string PostsService was given stays right and a later failover works too. Returns
    /// how long the database accepted no writes.
    /// </summary>
    public async Task<TimeSpan> FailOverPostgresAsync()
    {
        var standby = Standby ?? throw new InvalidOperationException("The system was started without a PostgreSQL standby.");
        var old = Postgres;
        var down = System.Diagnostics.Stopwatch.StartNew();
        await old.StopAsync(crash: true);
        await standby.PromoteAsync();
        var writable = down.Elapsed;
        Postgres = standby;
        Standby = await standby.StartStandbyAsync(old.Port);
        _owned.Add(Standby);
        return writable;
    }

    public async ValueTask DisposeAsync()
    {
        _postsChannel?.Dispose();
        foreach (var owned in _owned)
        {
            try
            {
                await owned.DisposeAsync();
            }
            catch (Exception)
            {
                // Best effort: one failed stop must not leave the other processes running.
            }
        }
    }
}
