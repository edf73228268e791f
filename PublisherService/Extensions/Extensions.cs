using SocialSync.MediaInspection;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Grpc;
using SocialSync.PublisherService.Insights;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.PublisherService.Platforms.WhatsApp;
using SocialSync.PublisherService.Publishing;
using SocialSync.PublisherService.Tokens;
using SocialSync.PublisherService.Webhooks;
using SocialSync.ServiceDefaults.Hosting;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PublisherService.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        builder.AddSocialSyncAuthentication();
        builder.RequireMetaSecrets();

        var services = builder.Services;
        services.AddServiceTokens();
        services.AddInternalGrpcClient<PostsInternalService.PostsInternalServiceClient>("posts-service");
        services.AddInternalGrpcClient<DeliveriesInternalService.DeliveriesInternalServiceClient>("posts-service");
        services.AddInternalGrpcClient<InsightsInternalService.InsightsInternalServiceClient>("posts-service");

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
        // Meta's webhooks in: statuses of the messages sent, checked and forwarded to PostsService (docs/webhooks.md).
        services.AddSingleton<MetaWebhookReceiver>();
        // Engagement after publishing: Instagram insights and online_followers, on PostsService's schedule (docs/insights.md).
        services.Configure<InsightsFetchOptions>(builder.Configuration.GetSection(InsightsFetchOptions.SectionName));
        services.AddSingleton<InstagramInsights>();
        services.AddHostedService<InsightsFetcher>();
        // Media is checked again just before publishing (Media:Checks): the file behind a URL may have changed.
        services.AddMediaInspector();

        // Tokens nearing their expiry: refreshed where the platform can, else the channel is marked expiring.
        services.Configure<TokenOptions>(builder.Configuration.GetSection(TokenOptions.SectionName));
        services.AddHostedService<TokenRefresher>();

        services.AddGrpc().AllowInternalMessages<PublisherGrpcService>(builder.Configuration);
        services.AddGrpcReflection();
    }

    /// <summary>
    /// The Meta app's secret (webhook signatures) and the webhook verify token are secrets without a default that ships
    /// (<see cref="SecretSettings"/>); the values checked here are the ones the receiver reads.
    /// </summary>
    private static void RequireMetaSecrets(this WebApplicationBuilder builder)
    {
        foreach (var (setting, developmentValue) in new[]
        {
            ($"{MetaOptions.SectionName}:{nameof(MetaOptions.AppSecret)}", SecretSettings.DevelopmentMetaAppSecret),
            ($"{MetaOptions.SectionName}:{nameof(MetaOptions.WebhookVerifyToken)}", SecretSettings.DevelopmentWebhookVerifyToken),
        })
        {
            builder.Configuration[setting] = SecretSettings.Require(builder.Configuration, builder.Environment, setting, developmentValue);
        }
    }

    public static void MapApplicationEndpoints(this WebApplication app)
    {
        // Built now, so two publishers registered for one platform stop the service at start, not at its first post.
        app.Services.GetRequiredService<PlatformRegistry>();
        app.UseRequestSizeLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<PublisherGrpcService>();
        var webhooks = app.Services.GetRequiredService<MetaWebhookReceiver>();
        app.MapGet(MetaWebhookReceiver.Path, webhooks.Verify);
        app.MapPost(MetaWebhookReceiver.Path, webhooks.ReceiveAsync);
        app.MapGrpcReflectionService();
        app.MapDefaultEndpoints();
    }
}
