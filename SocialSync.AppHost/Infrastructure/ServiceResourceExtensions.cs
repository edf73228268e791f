namespace SocialSync.AppHost.Infrastructure;

public static class ServiceResourceExtensions
{
    /// <summary>
    /// Two endpoints per service: "grpc" (HTTP/2 prior knowledge, for gRPC) and "http" (HTTP/1.1, for gRPC-Web,
    /// JSON transcoding and /health). Service-to-service clients address the first as http://_grpc.{name}.
    /// </summary>
    /// <remarks>
    /// The ports are fixed (http = <paramref name="basePort"/>, grpc = basePort + 1) so the README's curl and grpcurl
    /// commands work against every run; Aspire.Hosting.Testing randomizes them.
    /// </remarks>
    public static IResourceBuilder<ProjectResource> WithGrpcAndHttpEndpoints(this IResourceBuilder<ProjectResource> service, int basePort) =>
        service
            .WithHttpEndpoint(port: basePort + 1, name: "grpc", env: "GRPC_PORT")
            .WithHttpEndpoint(port: basePort, name: "http", env: "HTTP_PORT")
            .WithHttpHealthCheck("/health", endpointName: "http");

    /// <summary>
    /// The identity provider's issuer is its own <paramref name="endpointName"/> endpoint; plain http is allowed for
    /// that loopback address only because the AppHost says so (Identity:RequireHttps=false).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithIssuerAt(this IResourceBuilder<ProjectResource> identity, string endpointName) =>
        identity
            .WithEnvironment("Identity__Issuer", identity.GetEndpoint(endpointName))
            .WithEnvironment("Identity__RequireHttps", "false");

    /// <summary>PostsService validates user tokens by the identity provider's discovery document and JWKS (Auth:Users:Authority).</summary>
    public static IResourceBuilder<ProjectResource> WithUserTokensFrom(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ProjectResource> identity) =>
        service
            .WithEnvironment("Auth__Users__Authority", identity.GetEndpoint("http"))
            .WithEnvironment("Auth__Users__RequireHttpsMetadata", "false")
            .WaitFor(identity);

    /// <summary>
    /// The gateway signs people in with the identity provider (as the web app's public client, with PKCE); plain http
    /// to it and a session cookie without the Secure flag are allowed only because this loopback run says so.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSignInBy(this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ProjectResource> identity) =>
        gateway
            .WithEnvironment("Gateway__Authority", identity.GetEndpoint("http"))
            .WithEnvironment("Gateway__RequireHttps", "false")
            .WaitFor(identity);

    /// <summary>
    /// The web app links a post's trace to this run's Aspire dashboard: its URL is the AppHost's own (the first of
    /// ASPNETCORE_URLS, the launch profile's applicationUrl). Without one the app shows no link.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDashboardLinks(this IResourceBuilder<ProjectResource> gateway)
    {
        var dashboard = gateway.ApplicationBuilder.Configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return dashboard is null ? gateway : gateway.WithEnvironment("Gateway__DashboardUrl", dashboard);
    }

    /// <summary>
    /// Every gateway replica seals and opens session cookies with one key ring, kept in this run's data folder so
    /// that sessions also outlive a restart. A published manifest leaves it to the deployment (a volume the gateway
    /// pods share, docs/gateway.md), as a developer's folder means nothing there.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSharedSessionKeyRing(this IResourceBuilder<ProjectResource> gateway) =>
        gateway.ApplicationBuilder.ExecutionContext.IsRunMode
            ? gateway.WithEnvironment("Gateway__KeyRingPath", Path.Combine(InfrastructureExtensions.DataDirectory(gateway.ApplicationBuilder), "gateway-keys"))
            : gateway;

    /// <summary>The web app's client may receive its codes at the gateway and return there after sign-out.</summary>
    public static IResourceBuilder<ProjectResource> WithWebClientAt(this IResourceBuilder<ProjectResource> identity, EndpointReference gateway) =>
        identity
            .WithEnvironment("Identity__WebClient__RedirectUris__0", ReferenceExpression.Create($"{gateway}/signin-oidc"))
            .WithEnvironment("Identity__WebClient__PostLogoutRedirectUris__0", ReferenceExpression.Create($"{gateway}/signout-callback-oidc"));

    /// <summary>Points PublisherService at Meta's Graph API: the local emulator unless SocialSync:GraphApiBaseUrl is set.</summary>
    public static IResourceBuilder<ProjectResource> WithGraphApi(
        this IResourceBuilder<ProjectResource> publisher, IResourceBuilder<ProjectResource> emulator)
    {
        var realGraphApi = publisher.ApplicationBuilder.Configuration["SocialSync:GraphApiBaseUrl"];
        if (!string.IsNullOrWhiteSpace(realGraphApi))
        {
            return publisher.WithEnvironment("Meta__GraphApiBaseUrl", realGraphApi);
        }

        var endpoint = emulator.GetEndpoint("http");
        return publisher
            .WithEnvironment("Meta__GraphApiBaseUrl", endpoint)
            .WaitFor(emulator);
    }

    /// <summary>
    /// Meta's webhooks in (docs/webhooks.md): PublisherService checks their signature with the app secret and answers
    /// the subscription handshake with the verify token. The emulator, when it stands in for Meta, signs its status
    /// webhooks with the same secret and sends them to PublisherService; with Meta itself, the app's secret is given as
    /// the parameter and Meta's app dashboard subscribes PublisherService's public /webhooks/meta. Since statuses then
    /// arrive, PostsService may resend an unconfirmed post none arrived for after its reconciliation window.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMetaWebhooks(this IResourceBuilder<ProjectResource> publisher,
        IResourceBuilder<ProjectResource> emulator, IResourceBuilder<ProjectResource> posts,
        IResourceBuilder<ParameterResource> appSecret, IResourceBuilder<ParameterResource> verifyToken)
    {
        publisher
            .WithEnvironment("Meta__AppSecret", appSecret)
            .WithEnvironment("Meta__WebhookVerifyToken", verifyToken);
        posts.WithEnvironment("Deliveries__ReconciliationWindow", "00:10:00");
        if (string.IsNullOrWhiteSpace(publisher.ApplicationBuilder.Configuration["SocialSync:GraphApiBaseUrl"]))
        {
            var callback = publisher.GetEndpoint("http");
            emulator
                .WithEnvironment("Emulator__Webhooks__AppSecret", appSecret)
                .WithEnvironment("Emulator__Webhooks__CallbackUrl", ReferenceExpression.Create($"{callback}/webhooks/meta"));
        }
        return publisher;
    }

    /// <summary>
    /// Media URLs are fetched and checked at save time and before publishing (docs/media-rules.md). Locally the media
    /// may be served from this machine (the emulator, a test server), so localhost is let through; a deployment
    /// leaves the allow-list empty so that no post can make a service fetch an internal address.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithMediaChecks(this IResourceBuilder<ProjectResource> service) =>
        service
            .WithEnvironment("Media__Checks", "true")
            .WithEnvironment("Media__AllowedHosts__0", "localhost");
}
