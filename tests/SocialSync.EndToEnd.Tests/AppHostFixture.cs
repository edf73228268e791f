using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SocialSync.Testing;

namespace SocialSync.EndToEnd.Tests;

/// <summary>The whole AppHost (local PostgreSQL and Redis processes, every service, the emulator), shared by a collection.</summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"socialsync-e2e-{Guid.NewGuid():N}"[..26]);

    public DistributedApplication App { get; private set; } = null!;

    public GrpcChannel PostsChannel { get; private set; } = null!;

    public HttpClient Emulator { get; private set; } = null!;

    public HttpClient PostsHttp { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.SocialSync_AppHost>(
        [
            "SocialSync:Infrastructure=local",
            $"SocialSync:DataDirectory={_dataDirectory}",
            .. TestTokens.AppHostSecretArguments,
        ]);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        App = await builder.BuildAsync().WaitAsync(StartTimeout);
        await App.StartAsync().WaitAsync(StartTimeout);
        foreach (var resource in new[] { "identity", "posts-service", "scheduler-service", "publisher-service", "graph-api-emulator" })
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(resource).WaitAsync(StartTimeout);
        }
        PostsChannel = GrpcChannel.ForAddress(App.GetEndpoint("posts-service", "grpc"));
        PostsHttp = new HttpClient { BaseAddress = App.GetEndpoint("posts-service", "http") };
        Emulator = new HttpClient { BaseAddress = App.GetEndpoint("graph-api-emulator", "http") };
    }

    public async Task DisposeAsync()
    {
        PostsChannel?.Dispose();
        Emulator?.Dispose();
        PostsHttp?.Dispose();
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>
{
    public const string Name = "apphost";
}
