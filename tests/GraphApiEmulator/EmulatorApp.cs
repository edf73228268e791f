using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using SocialSync.GraphApiEmulator.Control;
using SocialSync.GraphApiEmulator.Graph;
using SocialSync.GraphApiEmulator.MediaHosting;
using SocialSync.GraphApiEmulator.State;
using SocialSync.GraphApiEmulator.Webhooks;

namespace SocialSync.GraphApiEmulator;

/// <summary>Builds the emulator: standalone (Program.cs), under Aspire, or in-process from tests.</summary>
public static class EmulatorApp
{
    public static WebApplication Build(string[] args, Action<EmulatorOptions>? configure = null, TimeProvider? timeProvider = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(EmulatorApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // Aspire sets ASPNETCORE_URLS; plain container platforms set PORT.
        if (string.IsNullOrEmpty(builder.Configuration["urls"])
            && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && builder.Configuration["PORT"] is { Length: > 0 } port)
        {
            builder.WebHost.UseUrls($"http://localhost:{port}");
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);

        var options = builder.Services.AddOptions<EmulatorOptions>().Bind(builder.Configuration.GetSection(EmulatorOptions.SectionName));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddSingleton(new EmulatorClock(timeProvider ?? TimeProvider.System));
        builder.Services.AddSingleton<TimeProvider>(sp => sp.GetRequiredService<EmulatorClock>());
        builder.Services.AddSingleton<EmulatorState>();
        builder.Services.AddSingleton<GraphHandler>();
        builder.Services.AddSingleton<MediaFiles>();
        builder.Services.AddHttpClient(WebhookSender.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<WebhookSender>());
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
        });

        var app = builder.Build();
        app.MapGet("/health", () => Results.Text("Healthy"));
        app.MapEmulatorControl();
        var handler = app.Services.GetRequiredService<GraphHandler>();
        app.Map("/{**path}", handler.HandleAsync);

        app.Lifetime.ApplicationStarted.Register(() =>
            Log.Listening(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(EmulatorApp)), string.Join(", ", app.Urls)));
        return app;
    }

    /// <summary>Starts an emulator on a free loopback port (a real Kestrel server) and returns its address.</summary>
    public static async Task<EmulatorHost> StartAsync(Action<EmulatorOptions>? configure = null, TimeProvider? timeProvider = null,
        CancellationToken cancellationToken = default)
    {
        var app = Build(["--urls", "http://127.0.0.1:0"], configure, timeProvider);
        await app.StartAsync(cancellationToken);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? throw new InvalidOperationException("The server reported no addresses.");
        var baseAddress = new Uri(addresses.First().TrimEnd('/') + "/");
        return new EmulatorHost(app, baseAddress);
    }
}

/// <summary>A running in-process emulator.</summary>
public sealed class EmulatorHost(WebApplication app, Uri baseAddress) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    /// <summary>e.g. http://127.0.0.1:41234/</summary>
    public Uri BaseAddress { get; } = baseAddress;

    public EmulatorState State => App.Services.GetRequiredService<EmulatorState>();

    public EmulatorClock Clock => App.Services.GetRequiredService<EmulatorClock>();

    /// <summary>The media files served under /__emu/media.</summary>
    public MediaFiles Media => App.Services.GetRequiredService<MediaFiles>();

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
