namespace SocialSync.Testing;

/// <summary>One SocialSync service running as its own process on two fixed loopback ports, restartable.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly string _project;
    private readonly string? _assembly;
    private readonly Dictionary<string, string?> _environment;
    private ManagedProcess? _process;

    /// <param name="assembly">The service's dll when not the project's build output (e.g. a published, trimmed app).</param>
    public ServiceProcess(string name, string project, IDictionary<string, string?> environment, string? assembly = null)
    {
        Name = name;
        _project = project;
        _assembly = assembly;
        GrpcPort = Ports.Free();
        HttpPort = Ports.Free();
        _environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = null,
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__SocialSync"] = "Information",
        };
        // Production refuses any key or password written in the repository: this test run's random ones.
        foreach (var (key, value) in TestTokens.SecretsFor(project))
        {
            _environment[key] = value;
        }
        // Test runs create posts far faster than one person would, under one user (the benchmark's bursts, the chaos
        // run, the abuse suite's fuzz): per-user limits far above their rates, unless a test sets its own.
        foreach (var (key, value) in UnthrottledRateLimits)
        {
            _environment[key] = value;
        }
        // The caller's settings win over these defaults (e.g. a test that captures Debug logs).
        foreach (var (key, value) in environment)
        {
            _environment[key] = value;
        }
        _environment["GRPC_PORT"] = GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _environment["HTTP_PORT"] = HttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>PostsService's per-user limits (RateLimits) set far above any rate a test, the benchmark or the chaos run reaches.</summary>
    public static IReadOnlyDictionary<string, string?> UnthrottledRateLimits { get; } = new Dictionary<string, string?>
    {
        ["RateLimits__RequestsPerPeriod"] = "100000000",
        ["RateLimits__RequestBurst"] = "100000000",
        ["RateLimits__CreatesPerPeriod"] = "100000000",
        ["RateLimits__CreateBurst"] = "100000000",
    };

    /// <summary>
    /// Sets one more setting before the next start: for a value that depends on the ports chosen here (an issuer
    /// URL naming the service's own address).
    /// </summary>
    public void SetEnvironment(string key, string? value) => _environment[key] = value;

    /// <summary>Every line the process writes (stdout and stderr), for tests that inspect all of it.</summary>
    public Action<string>? OnOutputLine { get; set; }

    public string Name { get; }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}");

    public Uri HttpAddress => new($"http://127.0.0.1:{HttpPort}");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running process's id (for resource sampling), or null when stopped.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public string RecentOutput => _process?.RecentOutput ?? "";

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var assembly = _assembly ?? RepositoryPaths.ServiceAssembly(_project);
        Ports.Renew(GrpcPort);
        Ports.Renew(HttpPort);
        _process = ManagedProcess.Start(Name, "dotnet", [assembly], _environment, Path.GetDirectoryName(assembly), OnOutputLine);
        await WaitHealthyAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited:{Environment.NewLine}{RecentOutput}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(HttpAddress, "/health"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{Name} was not healthy within {timeout}:{Environment.NewLine}{RecentOutput}");
    }

    /// <summary>kill -9, as a crash.</summary>
    public void Kill()
    {
        _process?.Kill();
        _process = null;
    }

    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(15));
            _process = null;
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
