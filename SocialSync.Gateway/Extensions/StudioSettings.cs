using Microsoft.Extensions.Options;

namespace SocialSync.Gateway.Extensions;

/// <summary>
/// The web app's settings, served as the <c>appsettings.json</c> a Blazor WebAssembly app reads at start-up, so what
/// the AppHost gives the gateway reaches the app: for now where the Aspire dashboard is (the post detail links a
/// post's trace there). Public, like the app's own files: it names no secret.
/// </summary>
public static class StudioSettings
{
    public static void MapStudioSettings(this WebApplication app) =>
        app.MapGet("/appsettings.json", (IOptions<GatewayOptions> options) => Results.Json(new
        {
            Studio = new { DashboardUrl = options.Value.DashboardUrl?.AbsoluteUri.TrimEnd('/') ?? "" },
        }));
}
