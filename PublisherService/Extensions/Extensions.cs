using SocialSync.MediaInspection;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Grpc;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.PublisherService.Platforms.WhatsApp;
using SocialSync.PublisherService.Publishing;
using SocialSync.PublisherService.Tokens;
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
        services.AddServiceTokens();
        services.AddInternalGrpcClient<PostsInternalService.PostsInternalServiceClient>("posts-service");

        // Meta's Graph API (WhatsApp and Instagram share it), then the platforms, one line each: a post goes to the
        // publisher registered for its channel's platform.
        services.AddGraphApi(builder.Configuration);
        services.AddPlatform<WhatsAppPublisher>();
        services.AddPlatform<InstagramPublisher>();
        services.AddTokenRefresher<InstagramTokenRefresher>();

        services.AddSingleton<IPlatformStateStore, PlatformStateStore>();
        services.AddSingleton<ChannelThrottle>();
        services.AddSingleton<PublisherMetrics>();
        services.AddSingleton<OutcomeReporter>();
        services.AddSingleton<PostPublisher>();
        // Media is checked again just before publishing (Media:Checks): the file behind a URL may have changed.
        services.AddMediaInspector();

        // Tokens nearing their expiry: refreshed where the platform can, else the channel is marked expiring.
        services.Configure<TokenOptions>(builder.Configuration.GetSection(TokenOptions.SectionName));
        services.AddHostedService<TokenRefresher>();

        services.AddGrpc().AllowInternalMessages<PublisherGrpcService>(builder.Configuration);
        services.AddGrpcReflection();
    }

    public static void MapApplicationEndpoints(this WebApplication app)
    {
        // Built now, so two publishers registered for one platform stop the service at start, not at its first post.
        app.Services.GetRequiredService<PlatformRegistry>();
        app.UseRequestSizeLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<PublisherGrpcService>();
        app.MapGrpcReflectionService();
        app.MapDefaultEndpoints();
    }
}
