using Microsoft.Extensions.Options;

namespace SocialSync.Gateway.Extensions;

/// <summary>
/// <c>GET /studio/settings</c>: what the AppHost gives the gateway for the web app, read by the app at start-up: for
/// now where the Aspire dashboard is (the post detail links a post's trace there). Public, like the app's own files:
/// it names no secret.
/// </summary>
public static class StudioSettings
{
    public static void MapStudioSettings(this WebApplication app) =>
        app.MapGet("/studio/settings", (IOptions<GatewayOptions> options) =>
            Results.Json(new { DashboardUrl = options.Value.DashboardUrl?.AbsoluteUri.TrimEnd('/') ?? "" }));
}
