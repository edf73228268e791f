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
            var postgres = builder.AddPostgres("postgres", password: password).WithDataVolume("socialsync-postgres");
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

    private static IResourceBuilder<IResourceWithConnectionString> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, IResourceBuilder<ParameterResource> password)
    {
        RequireBinary("initdb", "postgresql", "/usr/lib/postgresql");
        var dataDir = Path.Combine(DataDirectory(builder), "postgres");
        var script = Path.Combine(builder.AppHostDirectory, "scripts", "postgres.sh");

        var postgres = builder.AddExecutable("postgres", "bash", builder.AppHostDirectory)
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

        var healthCheck = "postgres-ready";
        builder.Services.AddHealthChecks().AddAsyncCheck(healthCheck, async ct =>
        {
            try
            {
                var cs = await ((IResourceWithConnectionString)postsdb.Resource).GetConnectionStringAsync(ct);
                await using var connection = new NpgsqlConnection(cs + ";Timeout=3;Pooling=false");
                await connection.OpenAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex)
            {
                return HealthCheckResult.Unhealthy(ex.Message);
            }
        });
        postgres.WithHealthCheck(healthCheck);
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
