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

    /// <summary>
    /// A commit waits until a standby has it (any standby: <c>'*'</c>). PostgreSQL's default is asynchronous
    /// replication, where a failover loses the commits the standby had not received yet.
    /// </summary>
    private const string SynchronousReplication = "-c synchronous_standby_names=* -c synchronous_commit=on";

    private ManagedProcess _process;
    private readonly string _dataDirectory;
    private readonly bool _durable;
    private readonly PostgresServer? _primary;
    private readonly bool _synchronous;

    private PostgresServer(string dataDirectory, int port, bool durable, PostgresServer? primary, bool synchronous)
    {
        _dataDirectory = dataDirectory;
        _durable = durable;
        _primary = primary;
        _synchronous = synchronous;
        Port = port;
        _process = Launch();
    }

    public int Port { get; }

    /// <summary>The server's launching process (its backends are descendants); null while it is down.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static async Task<PostgresServer> StartAsync(bool durable = false, bool synchronousReplication = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new PostgresServer(NewDataDirectory(), Ports.Free(), durable, primary: null, synchronousReplication);
            try
            {
                await server.WaitReadyAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && server._process.OutputContains("Address already in use"))
            {
                // Test suites run side by side: another process took the free port between our check and the bind.
                await server._process.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// A streaming replica of this server (a base backup, then its WAL as it is written), on <paramref name="port"/>
    /// or a free one: read-only until <see cref="PromoteAsync"/>. Its own settings match this one's, so once promoted
    /// it replicates synchronously too when this one did (and waits for a standby of its own before commits return).
    /// </summary>
    public async Task<PostgresServer> StartStandbyAsync(int? port = null)
    {
        var standby = new PostgresServer(NewDataDirectory(), port ?? Ports.Free(), _durable, primary: this, _synchronous);
        await standby.WaitReadyAsync();
        return standby;
    }

    /// <summary>Makes a standby the primary (<c>pg_promote</c>, waiting until it accepts writes).</summary>
    public async Task PromoteAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var promote = new NpgsqlCommand("select pg_promote(wait => true, wait_seconds => 60)", connection);
        if (await promote.ExecuteScalarAsync() is not true)
        {
            throw new InvalidOperationException($"PostgreSQL on port {Port} was not promoted within 60 s");
        }
    }

    /// <summary>
    /// One connection string naming every server, in order: a client connects to whichever is the primary now, so it
    /// follows a failover without being told (Npgsql's multi-host support).
    /// </summary>
    public static string FailoverConnectionString(string database, params PostgresServer[] servers) =>
        $"Host={string.Join(',', servers.Select(s => $"127.0.0.1:{s.Port}"))};Username=postgres;Password={Password};Database={database};Timeout=5;"
        + "Target Session Attributes=primary;Host Recheck Seconds=2";

    private static string NewDataDirectory() => Path.Combine(Path.GetTempPath(), $"socialsync-pg-{Guid.NewGuid():N}"[..24]);

    private ManagedProcess Launch() =>
        ManagedProcess.Start(_primary is null ? "postgres" : "postgres-standby", "bash",
            [RepositoryPaths.PostgresScript, _dataDirectory, Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "postgres"],
            new Dictionary<string, string?>
            {
                ["POSTGRES_PASSWORD"] = Password,
                ["POSTGRES_STANDBY_OF"] = _primary?.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                // SOCIALSYNC_POSTGRES_ARGS adds server settings for a profiling run, e.g. pg_stat_statements or auto_explain.
                ["POSTGRES_EXTRA_ARGS"] = $"{(_durable ? "" : RelaxedDurability)} {(_synchronous ? SynchronousReplication : "")} {Environment.GetEnvironmentVariable("SOCIALSYNC_POSTGRES_ARGS")}",
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
        _process = Launch();
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
