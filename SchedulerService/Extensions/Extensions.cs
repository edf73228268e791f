using SocialSync.Posts.V1;
using SocialSync.Publisher.V1;
using SocialSync.SchedulerService.Grpc;
using SocialSync.SchedulerService.Scheduling;
using SocialSync.SchedulerService.Telemetry;
using SocialSync.ServiceDefaults.Hosting;
using SocialSync.ServiceDefaults.Security;
using StackExchange.Redis;

namespace SocialSync.SchedulerService.Extensions;

public static class Extensions
{
    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        // Redis's health is SchedulerHealthCheck's PING: Aspire's own check asks a Redis Cluster for CLUSTER INFO, an
        // admin command the connection does not (and should not) allow.
        builder.AddRedisClient("redis", settings => settings.DisableHealthChecks = true, configureOptions: redis =>
        {
            redis.AbortOnConnectFail = false;
            redis.ConnectTimeout = 2000;
            redis.SyncTimeout = 2000;
            redis.AsyncTimeout = 2000;
        });
        builder.AddSocialSyncAuthentication();

        var services = builder.Services;
        services.Configure<SchedulerOptions>(builder.Configuration.GetSection(SchedulerOptions.SectionName));
        services.AddServiceTokens();
        services.AddInternalGrpcClient<PostsInternalService.PostsInternalServiceClient>("posts-service");
        services.AddInternalGrpcClient<PublisherService.PublisherServiceClient>("publisher-service");

        services.AddSingleton<SchedulerState>();
        services.AddSingleton<WakeSignal>();
        services.AddSingleton<DispatchIndex>();
        services.AddSingleton<OwnedShards>();
        services.AddSingleton<Claimer>();
        services.AddSingleton<PublishDispatcher>();
        services.AddSingleton<SafetyNet>();
        services.AddSingleton<SchedulerMetrics>();
        services.AddHostedService(sp => sp.GetRequiredService<SchedulerMetrics>());
        services.AddSingleton<SchedulerHealthCheck>();
        // Stops after the loops that read the shards (hosted services stop in reverse order), then gives them up.
        services.AddHostedService<ShardLeases>();
        services.AddHostedService(sp => sp.GetRequiredService<PublishDispatcher>());
        services.AddHostedService<OutboxRelay>();
        services.AddHostedService<DispatchLoop>();
        services.AddHostedService(sp => sp.GetRequiredService<SafetyNet>());
        services.AddHostedService<WakeSubscription>();

        services.AddGrpc().AllowInternalMessages<SchedulerGrpcService>(builder.Configuration);
        services.AddGrpcReflection();
        services.AddHealthChecks().AddCheck<SchedulerHealthCheck>("dispatch");
    }

    public static void MapApplicationEndpoints(this WebApplication app)
    {
        app.UseRequestSizeLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGrpcService<SchedulerGrpcService>();
        app.MapGrpcReflectionService();
        app.MapDefaultEndpoints();
    }
}
