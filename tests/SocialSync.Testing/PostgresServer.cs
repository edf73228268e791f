using Npgsql;

namespace SocialSync.Testing;

/// <summary>
/// A real PostgreSQL server for tests, started with the AppHost's own script on a free port in a fresh folder.
/// Durability settings are relaxed (fsync off) unless <paramref name="durable"/>: these tests measure behaviour, not
/// crash safety. Each test class creates its own database.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string Password = "socialsync-test-password";
    private const string RelaxedDurability = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";

    private ManagedProcess _process;
    private readonly string _dataDirectory;
    private readonly bool _durable;

    private PostgresServer(ManagedProcess process, string dataDirectory, int port, bool durable)
    {
        _process = process;
        _dataDirectory = dataDirectory;
        _durable = durable;
        Port = port;
    }

    public int Port { get; }

    public static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"socialsync-pg-{Guid.NewGuid():N}"[..24]);
        var port = Ports.Free();
        var server = new PostgresServer(Launch(dataDirectory, port, durable), dataDirectory, port, durable);
        await server.WaitReadyAsync();
        return server;
    }

    private static ManagedProcess Launch(string dataDirectory, int port, bool durable) =>
        ManagedProcess.Start("postgres", "bash", [RepositoryPaths.PostgresScript, dataDirectory, port.ToString(System.Globalization.CultureInfo.InvariantCulture), "postgres"],
            new Dictionary<string, string?>
            {
                ["POSTGRES_PASSWORD"] = Password,
                // SOCIALSYNC_POSTGRES_ARGS adds server settings for a profiling run, e.g. pg_stat_statements or auto_explain.
                ["POSTGRES_EXTRA_ARGS"] = $"{(durable ? "" : RelaxedDurability)} {Environment.GetEnvironmentVariable("SOCIALSYNC_POSTGRES_ARGS")}",
            });

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!_process.OutputContains("postgres ready on port"))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"PostgreSQL did not start:{Environment.NewLine}{_process.RecentOutput}");
            }
            await Task.Delay(50);
        }
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database={database};Timeout=5";

    /// <summary>A new empty database with a unique name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "postsdb")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"create database \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return name;
    }

    /// <summary>Stops the server hard (SIGKILL, as a crash) or cleanly.</summary>
    public async Task StopAsync(bool crash)
    {
        if (crash)
        {
            _process.Kill();
        }
        else
        {
            await _process.StopAsync(TimeSpan.FromSeconds(20));
        }
        NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Starts the server again on the same port and data.</summary>
    public async Task RestartAsync(bool crash = false)
    {
        await StopAsync(crash);
        // A killed postmaster leaves its pid file; postgres removes a stale one itself on start.
        _process = Launch(_dataDirectory, Port, _durable);
        await WaitReadyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
