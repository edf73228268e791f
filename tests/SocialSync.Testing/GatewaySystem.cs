namespace SocialSync.Testing;

/// <summary>
/// What a browser reaches, as the AppHost runs it: PostgreSQL, the identity provider (whose web client may return
/// codes to the gateway only), PostsService trusting the provider, and the gateway in front, each a real process;
/// with publishing, also Redis, the Graph API emulator, PublisherService and SchedulerService, so posts go out.
/// </summary>
public sealed class GatewaySystem : IAsyncDisposable
{
    public PostgresServer Postgres { get; private set; } = null!;

    /// <summary>With publishing only, as the next three.</summary>
    public RedisServer? Redis { get; private set; }

    public EmulatorProcess? Emulator { get; private set; }

    public ServiceProcess? Publisher { get; private set; }

    public ServiceProcess? Scheduler { get; private set; }

    public ServiceProcess Identity { get; private set; } = null!;

    public ServiceProcess Posts { get; private set; } = null!;

    public ServiceProcess Gateway { get; private set; } = null!;

    /// <summary>PostsService's database, for tests that stand in for another service's write (as the table owner).</summary>
    public string PostsConnectionString { get; private set; } = "";

    public Uri CallbackUri => new(Gateway.HttpAddress, "/signin-oidc");

    /// <summary>
    /// Starts the four, and with <paramref name="publishing"/> what publishes posts; <paramref name="gatewaySettings"/>
    /// are the gateway's own (e.g. how early it renews tokens); <paramref name="gatewayAssembly"/> runs a published
    /// gateway instead of its build output.
    /// </summary>
    public static async Task<GatewaySystem> StartAsync(IDictionary<string, string?>? gatewaySettings = null, bool publishing = false,
        string? gatewayAssembly = null)
    {
        var system = new GatewaySystem();
        try
        {
            await system.StartProcessesAsync(gatewaySettings ?? new Dictionary<string, string?>(), gatewayAssembly);
            if (publishing)
            {
                await system.StartPublishingAsync();
            }
            return system;
        }
        catch
        {
            // Nothing disposes a system whose start failed: stop what started, or it outlives the run.
            await system.DisposeAsync();
            throw;
        }
    }

    private async Task StartProcessesAsync(IDictionary<string, string?> gatewaySettings, string? gatewayAssembly)
    {
        Postgres = await PostgresServer.StartAsync();
        // Made first (not started) so its port, and so its callback address, is known to the provider.
        Gateway = new ServiceProcess("gateway", "SocialSync.Gateway", new Dictionary<string, string?>(gatewaySettings)
        {
            ["Gateway__RequireHttps"] = "false",
        }, gatewayAssembly);
        Identity = await IdentityProcess.StartAsync(Postgres, new Dictionary<string, string?>
        {
            ["Identity__WebClient__RedirectUris__0"] = CallbackUri.AbsoluteUri,
            ["Identity__WebClient__PostLogoutRedirectUris__0"] = new Uri(Gateway.HttpAddress, "/signout-callback-oidc").AbsoluteUri,
        });
        Posts = new ServiceProcess("posts-service", "PostsService", new Dictionary<string, string?>
        {
            ["ConnectionStrings__postsdb"] = PostsConnectionString = Postgres.ConnectionString(await Postgres.CreateDatabaseAsync()),
            ["Auth__Users__Authority"] = Identity.HttpAddress.AbsoluteUri,
            ["Auth__Users__RequireHttpsMetadata"] = "false",
        });
        await Posts.StartAsync();
        Gateway.SetEnvironment("Gateway__Authority", Identity.HttpAddress.AbsoluteUri);
        Gateway.SetEnvironment("services__posts-service__http__0", Posts.HttpAddress.AbsoluteUri);
        await Gateway.StartAsync();
    }

    /// <summary>PublisherService sending to the emulator, and one SchedulerService, wired as the AppHost wires them.</summary>
    private async Task StartPublishingAsync()
    {
        var started = await Task.WhenAll(Task.Run(async () => (object)await RedisServer.StartAsync()), Task.Run(async () => (object)await EmulatorProcess.StartAsync()));
        Redis = (RedisServer)started[0];
        Emulator = (EmulatorProcess)started[1];
        var postsAddress = Posts.GrpcAddress.ToString().TrimEnd('/');
        Publisher = new ServiceProcess("publisher-service", "PublisherService", new Dictionary<string, string?>
        {
            ["services__posts-service__grpc__0"] = postsAddress,
            ["Meta__GraphApiBaseUrl"] = Emulator.BaseAddress.ToString(),
        });
        await Publisher.StartAsync();
        // Meta's status webhooks for every WhatsApp send, as the AppHost wires them: the post detail shows each delivery.
        await Emulator.ConfigureWebhooksAsync(new Uri(Publisher.HttpAddress, "/webhooks/meta"), TestTokens.MetaAppSecret);
        Scheduler = new ServiceProcess("scheduler-service", "SchedulerService", new Dictionary<string, string?>
        {
            ["ConnectionStrings__redis"] = Redis.ConnectionString,
            ["services__posts-service__grpc__0"] = postsAddress,
            ["services__publisher-service__grpc__0"] = Publisher.GrpcAddress.ToString().TrimEnd('/'),
        });
        await Scheduler.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new IAsyncDisposable?[] { Gateway, Scheduler, Publisher, Posts, Identity, Emulator, Redis })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
