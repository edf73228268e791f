using StackExchange.Redis;

namespace SocialSync.Testing;

/// <summary>A real redis-server on a free port, which tests may flush, stop and start again.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private ManagedProcess? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The redis-server process; null while it is down.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(Ports.Free());
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on its port, empty.</summary>
    public async Task RestartAsync()
    {
        var port = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _process = ManagedProcess.Start("redis", "redis-server", ["--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        await Ports.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(20), () => !_process.HasExited);
    }

    public async Task StopAsync(bool crash = true)
    {
        if (_process is null)
        {
            return;
        }
        if (crash)
        {
            _process.Kill();
        }
        else
        {
            await _process.StopAsync(TimeSpan.FromSeconds(10));
        }
        _process = null;
    }

    public async Task FlushAllAsync()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true");
        await mux.GetServer(ConnectionString).FlushAllDatabasesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }
}
