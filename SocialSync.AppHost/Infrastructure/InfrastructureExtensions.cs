using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using StackExchange.Redis;

namespace SocialSync.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL ("postsdb") and Redis ("redis"), as containers where a container engine answers, otherwise as local
/// processes. SocialSync:Infrastructure = auto (default) | containers | local forces a mode. Redis may instead be a
/// local Redis Cluster (SocialSync:RedisCluster = true: six nodes, 3 masters with 1 replica each, on ports
/// SocialSync:RedisClusterBasePort … + 5, default 7000), or an existing Redis or Redis Cluster named by the AppHost's
/// own ConnectionStrings:redis (docs/scale.md).
/// </summary>
public static class InfrastructureExtensions
{
    private const string DatabaseName = "postsdb";
    private const string RedisName = "redis";
    private const string ServerName = "postgres";
    // The parameter AddSocialSyncInfrastructure generates for the server's superuser (named there in full, as the secrets test reads it).
    private const string ServerPasswordParameter = "postgres-password";

    public static (IResourceBuilder<IResourceWithConnectionString> Postsdb, IResourceBuilder<IResourceWithConnectionString> Redis)
        AddSocialSyncInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var password = builder.AddGeneratedSecret("postgres-password");
        var mode = builder.Configuration["SocialSync:Infrastructure"] ?? "auto";
        var useContainers = mode switch
        {
            "containers" => true,
            "local" => false,
            _ => ContainerEngineAnswers(),
        };

        var postsdb = useContainers
            ? builder.AddPostgres(ServerName, password: password).WithDataVolume("socialsync-postgres").AddDatabase(DatabaseName)
            : builder.AddLocalPostgres(password);
        IResourceBuilder<IResourceWithConnectionString> redis =
            !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(RedisName)) ? builder.AddConnectionString(RedisName)
            : builder.Configuration.GetValue<bool>("SocialSync:RedisCluster") ? builder.AddLocalRedisCluster()
            : useContainers ? builder.AddRedis(RedisName)
            : builder.AddLocalRedis();
        return (postsdb, redis);
    }

    /// <summary>
    /// A secret parameter generated on the first run (64 letters and digits, also valid base64) and persisted in the
    /// AppHost's user secrets; configuration (Parameters:name) overrides it.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true, persist: true);

    /// <summary>
    /// A database of one service on the same PostgreSQL server, owned by a role of its own that logs in with
    /// <paramref name="password"/>; no other role may connect to it (superusers aside). Created, or its role's password
    /// set again, once the server is ready; the connection string <paramref name="name"/> logs in as that role and is
    /// healthy once the role can open the database.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddOwnedDatabase(this IDistributedApplicationBuilder builder, string name, string role,
        IResourceBuilder<ParameterResource> password)
    {
        var server = builder.Resources.OfType<IResourceWithEndpoints>().Single(r => r.Name == ServerName);
        var serverPassword = builder.Resources.OfType<ParameterResource>().Single(p => p.Name == ServerPasswordParameter);
        var endpoint = new EndpointReference(server, "tcp");
        var host = endpoint.Property(EndpointProperty.Host);
        var port = endpoint.Property(EndpointProperty.Port);
        var admin = ReferenceExpression.Create($"Host={host};Port={port};Username=postgres;Password={serverPassword};Database=postgres");
        var database = builder.AddConnectionString(name, ReferenceExpression.Create(
            $"Host={host};Port={port};Username={role};Password={password};Database={name}"));

        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (_, ct) =>
            await ProvisionOwnedDatabaseAsync(await admin.GetValueAsync(ct) ?? "", name, role, await password.Resource.GetValueAsync(ct) ?? "", ct));

        database.WithHealthCheck(builder.AddOpensCheck($"{name}-ready", database.Resource)).WaitFor(builder.CreateResourceBuilder(server));
        return database;
    }

    /// <summary>A health check named <paramref name="name"/>: healthy once a connection with <paramref name="database"/>'s connection string opens.</summary>
    private static string AddOpensCheck(this IDistributedApplicationBuilder builder, string name, IResourceWithConnectionString database)
    {
        builder.Services.AddHealthChecks().AddAsyncCheck(name, async ct =>
        {
            try
            {
                var cs = await database.GetConnectionStringAsync(ct);
                await using var connection = new NpgsqlConnection(cs + ";Timeout=3;Pooling=false");
                await connection.OpenAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        });
        return name;
    }

    private static async Task ProvisionOwnedDatabaseAsync(string adminConnectionString, string database, string role, string password, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(ct);
        async Task<bool> ExistsAsync(string sql, string name)
        {
            await using var query = new NpgsqlCommand(sql, connection);
            query.Parameters.AddWithValue("name", name);
            return await query.ExecuteScalarAsync(ct) is not null;
        }
        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(ct);
        }

        // Identifiers are this file's constants; a password cannot be a parameter of ALTER ROLE, so it is quoted.
        var quotedPassword = "'" + password.Replace("'", "''", StringComparison.Ordinal) + "'";
        if (!await ExistsAsync("select 1 from pg_roles where rolname = @name", role))
        {
            await ExecuteAsync($"create role {role} login");
        }
        await ExecuteAsync($"alter role {role} with login password {quotedPassword}");
        if (!await ExistsAsync("select 1 from pg_database where datname = @name", database))
        {
            await ExecuteAsync($"create database {database} owner {role}");
        }
        await ExecuteAsync($"revoke connect on database {database} from public");
    }

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ParameterResource> password)
    {
        RequireBinary("initdb", "postgresql", "/usr/lib/postgresql");
        var dataDir = Path.Combine(DataDirectory(builder), "postgres");
        var script = Path.Combine(builder.AppHostDirectory, "scripts", "postgres.sh");

        var postgres = builder.AddExecutable(ServerName, "bash", builder.AppHostDirectory)
            .WithEndpoint(name: "tcp", scheme: "tcp");
        var endpoint = postgres.GetEndpoint("tcp");
        postgres
            .WithArgs(context =>
            {
                context.Args.Add(script);
                context.Args.Add(dataDir);
                context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add(DatabaseName);
            })
            .WithEnvironment("POSTGRES_PASSWORD", password)
            .WithEnvironment("POSTGRES_EXTRA_ARGS", builder.Configuration["SocialSync:PostgresArgs"] ?? "");

        var postsdb = builder.AddConnectionString(DatabaseName, ReferenceExpression.Create(
            $"Host={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};Username=postgres;Password={password};Database={DatabaseName}"));

        postgres.WithHealthCheck(builder.AddOpensCheck("postgres-ready", postsdb.Resource));
        postsdb.WaitFor(postgres);
        return postsdb;
    }

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalRedis(this IDistributedApplicationBuilder builder)
    {
        var redisServer = RequireBinary("redis-server", "redis-server", null);
        var redis = builder.AddExecutable("redis-server", redisServer, builder.AppHostDirectory)
            .WithEndpoint(name: "tcp", scheme: "tcp");
        var endpoint = redis.GetEndpoint("tcp");
        redis.WithArgs(context =>
        {
            context.Args.Add("--port");
            context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--bind");
            context.Args.Add("127.0.0.1");
            // An index only: PostgreSQL is the truth and the scheduler rebuilds the index after any loss.
            context.Args.Add("--save");
            context.Args.Add("");
            context.Args.Add("--appendonly");
            context.Args.Add("no");
        });

        var connection = builder.AddConnectionString(RedisName, ReferenceExpression.Create(
            $"{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}"));
        redis.WithHealthCheck(builder.AddRedisCheck("redis-ready", connection.Resource, async mux => await mux.GetDatabase().PingAsync()));
        connection.WaitFor(redis);
        return connection;
    }

    /// <summary>
    /// Six redis-server processes in cluster mode, joined into 3 masters with 1 replica each (scripts/redis-cluster.sh,
    /// a new empty cluster on every start), on fixed ports: a cluster's nodes tell clients their own addresses, which
    /// a proxied endpoint would hide. The connection string lists every node; the client finds the layout itself.
    /// </summary>
    private static IResourceBuilder<IResourceWithConnectionString> AddLocalRedisCluster(this IDistributedApplicationBuilder builder)
    {
        RequireBinary("redis-server", "redis-server", null);
        var basePort = builder.Configuration.GetValue("SocialSync:RedisClusterBasePort", 7000);
        var script = Path.Combine(builder.AppHostDirectory, "scripts", "redis-cluster.sh");
        var cluster = builder.AddExecutable("redis-cluster", "bash", builder.AppHostDirectory,
            script, Path.Combine(DataDirectory(builder), "redis-cluster"), basePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var nodes = string.Join(",", Enumerable.Range(basePort, 6).Select(port => $"127.0.0.1:{port}"));
        var connection = builder.AddConnectionString(RedisName, ReferenceExpression.Create($"{nodes}"));
        // Ready when every slot is served: CLUSTER INFO says ok (an admin command, allowed on this check's connection only).
        cluster.WithHealthCheck(builder.AddRedisCheck("redis-cluster-ready", connection.Resource, async mux =>
        {
            var info = (await mux.GetServers().First(s => s.IsConnected).ExecuteAsync("CLUSTER", "INFO")).ToString();
            if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("The cluster does not serve every slot yet.");
            }
        }, allowAdmin: true));
        connection.WaitFor(cluster);
        return connection;
    }

    /// <summary>A health check named <paramref name="name"/>: healthy once <paramref name="probe"/> succeeds on a connection made with <paramref name="redis"/>'s connection string.</summary>
    private static string AddRedisCheck(this IDistributedApplicationBuilder builder, string name, IResourceWithConnectionString redis,
        Func<ConnectionMultiplexer, Task> probe, bool allowAdmin = false)
    {
        builder.Services.AddHealthChecks().AddAsyncCheck(name, async ct =>
        {
            try
            {
                var cs = await redis.GetConnectionStringAsync(ct);
                await using var mux = await ConnectionMultiplexer.ConnectAsync($"{cs},connectTimeout=2000,abortConnect=true{(allowAdmin ? ",allowAdmin=true" : "")}");
                await probe(mux);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        });
        return name;
    }

    /// <summary>The folder this run keeps its servers' data in (SocialSync:DataDirectory, else .data beside the AppHost).</summary>
    internal static string DataDirectory(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["SocialSync:DataDirectory"];
        var dir = string.IsNullOrWhiteSpace(configured)
            ? Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", ".data"))
            : Path.GetFullPath(configured);
        if (builder.Configuration.GetValue<bool>("SocialSync:CleanStart") && Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string RequireBinary(string name, string package, string? searchRoot)
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name));
        if (searchRoot is not null && Directory.Exists(searchRoot))
        {
            candidates = candidates.Concat(Directory.GetDirectories(searchRoot).Select(v => Path.Combine(v, "bin", name)));
        }
        var found = candidates.FirstOrDefault(File.Exists);
        if (found is null)
        {
            Console.Error.WriteLine($"SocialSync needs '{name}' to run without containers: install it with 'apt-get install -y {package}' (or run where a container engine answers).");
            Environment.Exit(2);
        }
        return found;
    }

    private static bool ContainerEngineAnswers()
    {
        try
        {
            using var docker = Process.Start(new ProcessStartInfo("docker", "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (docker is null)
            {
                return false;
            }
            if (!docker.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                docker.Kill();
                return false;
            }
            return docker.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
