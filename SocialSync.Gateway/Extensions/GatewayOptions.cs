namespace SocialSync.Gateway.Extensions;

/// <summary>The gateway's settings (section <c>Gateway</c>; docs/gateway.md lists them).</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>The OIDC provider people sign in with (its issuer URL); the AppHost sets it to SocialSync.Identity.</summary>
    public Uri? Authority { get; set; }

    /// <summary>The client the gateway signs people in as: the web app's public client, with PKCE.</summary>
    public string ClientId { get; set; } = "socialsync-web";

    /// <summary>
    /// False allows plain http to the provider and session cookies without the Secure flag (a loopback run: the
    /// AppHost and the tests set it). Anywhere else the session travels over https only.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>Where PostsService's HTTP/1.1 endpoint (gRPC-Web and REST) is, by service discovery.</summary>
    public string PostsService { get; set; } = "http://posts-service";

    /// <summary>How long a browser session lasts without use (sliding), whatever the provider's refresh token allows.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>An access token this close to its expiry is renewed (with the refresh token) before it is sent on.</summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The folder of the key ring that seals session cookies, shared by every replica and kept across restarts (in a
    /// cluster, a volume every gateway pod mounts). Unset, each machine keeps its own ring in the user's profile: one
    /// gateway on one machine only. The AppHost sets it under its data folder.
    /// </summary>
    public string? KeyRingPath { get; set; }

    /// <summary>
    /// The Aspire dashboard, where the web app links a post's trace (<c>{DashboardUrl}/traces/detail/{traceId}</c>);
    /// the AppHost sets it, and without it the app shows no link.
    /// </summary>
    public Uri? DashboardUrl { get; set; }
}
