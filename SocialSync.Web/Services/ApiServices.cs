using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

public static class ApiServices
{
    /// <summary>
    /// The API through the gateway that served this app: gRPC-Web calls and the session's own endpoints, each with
    /// the browser's session cookie (same origin) and the antiforgery header the gateway asks of every call.
    /// </summary>
    public static IServiceCollection AddSocialSyncApi(this IServiceCollection services, Uri gateway)
    {
        services.AddSingleton(_ => GrpcChannel.ForAddress(gateway, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new AntiforgeryHandler { InnerHandler = new HttpClientHandler() }),
        }));
        services.AddSingleton(sp => new PostService.PostServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new ChannelService.ChannelServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new PostTransferService.PostTransferServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new QueueService.QueueServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new TemplateService.TemplateServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton<DisplayZone>();
        // Server streaming over gRPC-Web in binary mode: GrpcWebHandler asks the browser's fetch for a streaming
        // response, so each message is read as it arrives (no GrpcWebText needed).
        services.AddSingleton(sp => new PostWatchService.PostWatchServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton<PostFeed>();
        services.AddSingleton(sp => new WorkspaceService.WorkspaceServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new PostDeliveryService.PostDeliveryServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new PostStatisticsService.PostStatisticsServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new InsightsService.InsightsServiceClient(sp.GetRequiredService<GrpcChannel>()));
        services.AddSingleton(sp => new HttpClient(new AntiforgeryHandler { InnerHandler = new HttpClientHandler() }) { BaseAddress = gateway });
        services.AddSingleton<SessionState>();
        services.AddSingleton<StudioSettings>();
        return services;
    }

    /// <summary>Adds <c>X-CSRF: 1</c>, which the gateway requires of every call made with the session (docs/gateway.md).</summary>
    private sealed class AntiforgeryHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add("X-CSRF", "1");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
