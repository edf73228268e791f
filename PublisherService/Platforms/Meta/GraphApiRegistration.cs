namespace SocialSync.PublisherService.Platforms.Meta;

public static class GraphApiRegistration
{
    /// <summary>Meta's Graph API client and its settings, shared by the platforms Meta runs (WhatsApp, Instagram).</summary>
    public static IServiceCollection AddGraphApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<MetaOptions>(configuration.GetSection(MetaOptions.SectionName));
        // No resilience handler on Meta's client, on purpose: a POST that timed out may have been applied, and
        // resending it is the reconciliation logic's decision, not the HTTP pipeline's.
        services.AddHttpClient<GraphApiClient>(GraphApiClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                MaxConnectionsPerServer = 256,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });
        return services;
    }
}
