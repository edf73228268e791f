using SocialSync.Posts.V1;
using SocialSync.PublisherService.Grpc;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.WhatsApp;
using SocialSync.PublisherService.Publishing;
using SocialSync.ServiceDefaults.Hosting;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PublisherService.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        builder.AddSocialSyncAuthentication();

        var services = builder.Services;
        services.Configure<MetaOptions>(builder.Configuration.GetSection(MetaOptions.SectionName));
        services.AddServiceTokens();
        services.AddInternalGrpcClient<PostsInternalService.PostsInternalServiceClient>("posts-service");

        // No resilience handler on Meta's client, on purpose: a POST that timed out may have been applied, and
        // resending it is the reconciliation logic's decision, not the HTTP pipeline's.
        services.AddHttpClient<GraphApiClient>(GraphApiClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 256,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });

        services.AddSingleton<IPlatformStateStore, PlatformStateStore>();
        services.AddSingleton<IPlatformPublisher, WhatsAppPublisher>();
        services.AddSingleton<IPlatformPublisher, InstagramPublisher>();
        services.AddSingleton<ChannelThrottle>();
        services.AddSingleton<PublisherMetrics>();
        services.AddSingleton<OutcomeReporter>();
        services.AddSingleton<PostPublisher>();

        services.AddGrpc(options => options.MaxReceiveMessageSize = 32 * 1024 * 1024);
        services.AddGrpcReflection();
    }

    public static void MapApplicationEndpoints(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<PublisherGrpcService>();
        app.MapGrpcReflectionService();
        app.MapDefaultEndpoints();
    }
}
