using SocialSync.MediaInspection;
using SocialSync.PostsService.Background;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Grpc;
using SocialSync.PostsService.Limits;
using SocialSync.PostsService.Rest;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Hosting;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Extensions;

public static class Extensions
{
    public const string CorsPolicy = "grpc-web";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        builder.AddNpgsqlDataSource("postsdb", configureDataSourceBuilder: dataSource => PostsDatabase.ConfigureConnections(dataSource.ConnectionStringBuilder));
        builder.AddSocialSyncAuthentication(acceptUserTokens: true);
        builder.RequirePostsSecrets();

        var services = builder.Services;
        services.AddSingleton<PostsDatabase>();
        services.AddSingleton<MigrationRunner>();
        services.AddSingleton<AccessTokenProtector>();
        services.AddSingleton<PostsMetrics>();
        services.AddSingleton<PostsGauges>();
        services.AddHostedService(provider => provider.GetRequiredService<PostsGauges>());
        services.AddSingleton(builder.Configuration.GetSection(RetryOptions.SectionName).Get<RetryOptions>() ?? new RetryOptions());
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton(builder.Configuration.GetSection(AlertThresholds.SectionName).Get<AlertThresholds>() ?? new AlertThresholds());
        services.AddSingleton(RateLimitOptions.From(builder.Configuration));
        services.AddSingleton<UserRateLimits>();
        services.AddSingleton<ScheduleChangeNotifier>();
        services.AddSingleton<PostStore>();
        services.AddSingleton<QueueStore>();
        services.AddSingleton<TemplateStore>();
        services.AddSingleton<ChannelStore>();
        services.AddSingleton<WorkspaceStore>();
        services.AddSingleton<InvitationStore>();
        services.AddSingleton<ReviewStore>();
        services.AddSingleton<PostEventStore>();
        // WatchPosts: the post changes streamed to members (issue 17 part 5, docs/api.md "Watching posts").
        services.AddSingleton(builder.Configuration.GetSection(WatchOptions.SectionName).Get<WatchOptions>() ?? new WatchOptions());
        services.AddSingleton<PostChangeStore>();
        services.AddSingleton<PostChangeFeed>();
        services.AddHostedService(provider => provider.GetRequiredService<PostChangeFeed>());
        // Outbound webhooks: the same events to the workspaces' endpoints, signed, at least once (docs/webhooks.md "Webhooks out").
        var webhookOptions = builder.Configuration.GetSection(WebhookOptions.SectionName).Get<WebhookOptions>() ?? new WebhookOptions();
        services.AddSingleton(webhookOptions);
        services.AddSingleton<WebhookEndpointStore>();
        services.AddSingleton<WebhookDeliveryStore>();
        WebhookDeliveryWorker.AddHttpClient(services, webhookOptions);
        services.AddHostedService<WebhookDeliveryWorker>();
        services.AddHostedService<ApprovalExpiry>();
        services.AddSingleton<StatisticsStore>();
        services.AddSingleton<ScheduleOutboxStore>();
        services.AddSingleton<ClaimStore>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<OutcomeStore>();
        // WhatsApp delivery statuses from Meta's webhooks (through PublisherService), and the automatic resend of an
        // unconfirmed post none arrived for (docs/webhooks.md).
        services.AddSingleton<DeliveryStore>();
        services.AddSingleton<PostDeliveryStore>();
        services.AddSingleton(builder.Configuration.GetSection(DeliveryOptions.SectionName).Get<DeliveryOptions>() ?? new DeliveryOptions());
        services.AddHostedService<DeliveryReconciler>();
        // Engagement after publishing and the best times to publish: insights PublisherService fetches from Meta (docs/insights.md).
        services.AddSingleton(builder.Configuration.GetSection(InsightsOptions.SectionName).Get<InsightsOptions>() ?? new InsightsOptions());
        services.AddSingleton<InsightsStore>();
        services.AddSingleton<EngagementStore>();
        // A/B experiments and their finisher (docs/experiments.md).
        services.AddSingleton(builder.Configuration.GetSection(ExperimentOptions.SectionName).Get<ExperimentOptions>() ?? new ExperimentOptions());
        services.AddSingleton<ExperimentStore>();
        services.AddHostedService<ExperimentFinisher>();
        services.AddSingleton<SchedulerRpcHandler>();
        services.AddSingleton<PublisherRpcHandler>();
        services.AddSingleton<ChannelTokenStore>();
        services.AddSingleton<ChannelTokenRpcHandler>();
        services.AddSingleton<CreatePostBatcher>();
        services.AddSingleton<PostTransferStore>();
        // Import operations live in PostgreSQL: readable from every replica, taken over when their writer dies (docs/planning.md).
        services.AddSingleton(builder.Configuration.GetSection(ImportOptions.SectionName).Get<ImportOptions>() ?? new ImportOptions());
        services.AddSingleton<ImportOperationStore>();
        services.AddSingleton<PostImporter>();
        services.AddHostedService(provider => provider.GetRequiredService<PostImporter>());
        services.AddMediaInspector();
        services.AddSingleton<PostMediaChecks>();
        services.AddHostedService(provider => provider.GetRequiredService<CreatePostBatcher>());

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ExceptionMappingInterceptor>();
            options.Interceptors.Add<NulCharacterInterceptor>();
            options.EnableDetailedErrors = false;
        })
        // Per-user limits on the public services only; after the global interceptors, so a refusal is mapped like any other.
        .AddServiceOptions<PostGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<ChannelGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<WorkspaceGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<QueueGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<TemplateGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<PostTransferGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<PostWatchGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<WebhookEndpointGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<InsightsGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<PostDeliveryGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<PostStatisticsGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AddServiceOptions<ExperimentGrpcService>(options => options.Interceptors.Add<UserRequestLimitInterceptor>())
        .AllowInternalMessages<PostsInternalGrpcService>(builder.Configuration)
        .AllowInternalMessages<DeliveriesInternalGrpcService>(builder.Configuration)
        .AllowInternalMessages<InsightsInternalGrpcService>(builder.Configuration)
        .AddJsonTranscoding(transcoding =>
        {
            // REST reads and writes enum values without their type prefix ("QUEUED", "IMAGE"); RestConventionsMiddleware
            // also accepts the lower-case words of the original REST contract ("queued", "image").
            transcoding.JsonSettings.RemoveEnumPrefix = true;
            // Error bodies carry google.rpc details (BadRequest field violations): the formatter must know them.
            transcoding.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor);
        });
        services.AddGrpcReflection();
        services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => policy
            .WithOrigins(builder.Configuration.GetSection("Cors:Origins").Get<string[]>() ?? [])
            .AllowAnyMethod()
            .AllowAnyHeader()
            .WithExposedHeaders("Grpc-Status", "Grpc-Message", "Grpc-Encoding", "Grpc-Accept-Encoding")));

        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("postgres").AddCheck<OutboxHealthCheck>("outbox")
            .AddCheck<AlertsHealthCheck>("alerts");
        services.AddGrpcHealthChecks();
        // Request bytes that do not decode are INVALID_ARGUMENT, not UNKNOWN (DecodingServiceMethodProvider). Last, as
        // AddGrpc, which the registrations above may call again, adds Grpc.AspNetCore's own binder when it is missing.
        services.BindGrpcServicesDecodingStrictly();
    }

    /// <summary>
    /// The channel-token encryption key and the API role's database password are secrets without a default that ships
    /// (<see cref="SecretSettings"/>); the values checked here are the ones the stores read.
    /// </summary>
    private static void RequirePostsSecrets(this WebApplicationBuilder builder)
    {
        foreach (var (setting, developmentValue) in new[]
        {
            (AccessTokenProtector.KeySetting, SecretSettings.DevelopmentTokenEncryptionKey),
            (PostsDatabase.AppPasswordSetting, SecretSettings.DevelopmentDatabasePassword),
        })
        {
            builder.Configuration[setting] = SecretSettings.Require(builder.Configuration, builder.Environment, setting, developmentValue);
        }
    }

    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<MigrationRunner>().MigrateAsync(app.Lifetime.ApplicationStopping);
    }

    public static void MapApplicationEndpoints(this WebApplication app)
    {
        app.UseRequestSizeLimits();
        app.UseCors(CorsPolicy);
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<RestConventionsMiddleware>();

        app.MapGrpcService<PostGrpcService>();
        app.MapGrpcService<ChannelGrpcService>();
        app.MapGrpcService<WorkspaceGrpcService>();
        app.MapGrpcService<QueueGrpcService>();
        app.MapGrpcService<TemplateGrpcService>();
        app.MapGrpcService<PostTransferGrpcService>();
        app.MapGrpcService<PostWatchGrpcService>();
        app.MapGrpcService<WebhookEndpointGrpcService>();
        app.MapGrpcService<PostDeliveryGrpcService>();
        app.MapGrpcService<PostStatisticsGrpcService>();
        app.MapGrpcService<ExperimentGrpcService>();
        app.MapGrpcService<PostsInternalGrpcService>();
        app.MapGrpcService<DeliveriesInternalGrpcService>();
        app.MapGrpcService<InsightsGrpcService>();
        app.MapGrpcService<InsightsInternalGrpcService>();
        app.MapGrpcReflectionService();
        app.MapDefaultEndpoints();
    }
}
