using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using StackExchange.Redis;

namespace SocialSync.AppHost.Infrastructure;

/// <summary>
/// PostgreSQL ("postsdb") and Redis ("redis"), as containers where a container engine answers, otherwise as local
/// processes. SocialSync:Infrastructure = auto (default) | containers | local forces a mode.
/// </summary>
public static class InfrastructureExtensions
{
    private const string DatabaseName = "postsdb";
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

        if (useContainers)
        {
            var postgres = builder.AddPostgres(ServerName, password: password).WithDataVolume("socialsync-postgres");
            return (postgres.AddDatabase(DatabaseName), builder.AddRedis("redis"));
        }

        return (builder.AddLocalPostgres(password), builder.AddLocalRedis());
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

        var connection = builder.AddConnectionString("redis", ReferenceExpression.Create(
            $"{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}"));

        var healthCheck = "redis-ready";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async ct =>
        {
            try
            {
                var cs = await ((IResourceWithConnectionString)connection.Resource).GetConnectionStringAsync(ct);
                await using var mux = await ConnectionMultiplexer.ConnectAsync(cs + ",connectTimeout=2000,abortConnect=true");
                await mux.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        });
        redis.WithHealthCheck(healthCheck);
        connection.WaitFor(redis);
        return connection;
    }

    private static string DataDirectory(IDistributedApplicationBuilder builder)
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
