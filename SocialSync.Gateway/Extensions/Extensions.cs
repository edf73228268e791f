using SocialSync.Gateway.Proxy;
using SocialSync.Gateway.Session;
using SocialSync.ServiceDefaults.Hosting;

namespace SocialSync.Gateway.Extensions;

public static class Extensions
{
    public static void AddGateway(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        // The web app's files from its own project's output (or the published folder), in every environment.
        builder.WebHost.UseStaticWebAssets();
        var section = builder.Configuration.GetSection(GatewayOptions.SectionName);
        builder.Services.Configure<GatewayOptions>(section);
        var options = section.Get<GatewayOptions>() ?? new GatewayOptions();
        builder.AddSessionKeyRing(options);
        builder.AddBrowserSession(options);
        builder.AddApiProxy(options);
        builder.Services.AddHealthChecks();
    }

    public static void MapGateway(this WebApplication app)
    {
        app.LoadSessionKeyRing();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHealthChecks("/health");
        app.MapBrowserSessionEndpoints();
        app.MapApiProxy();
        app.MapStudioSettings();
        // SocialSync Studio: its files, and its index page for every other path (the app routes in the browser).
        app.MapStaticAssets();
        app.MapFallbackToFile("index.html");
    }
}
