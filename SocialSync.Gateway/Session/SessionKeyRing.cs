using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using SocialSync.Gateway.Extensions;

namespace SocialSync.Gateway.Session;

/// <summary>
/// The Data Protection key ring that seals the session cookie and the sign-in's correlation and nonce cookies. Every
/// gateway replica must open what another one sealed, and a restarted or redeployed gateway what it sealed before, or
/// people are signed out (or their sign-in fails halfway) whenever a request lands on another process. So the ring
/// has one application name, where ASP.NET Core would take the install path, and lives in the folder
/// <see cref="GatewayOptions.KeyRingPath"/> names.
/// </summary>
public static partial class SessionKeyRing
{
    public const string ApplicationName = "socialsync-gateway";

    public static void AddSessionKeyRing(this WebApplicationBuilder builder, GatewayOptions options)
    {
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        if (!string.IsNullOrWhiteSpace(options.KeyRingPath))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.KeyRingPath));
        }
    }

    /// <summary>Says at start-up, outside development, that sessions will not survive a move to another machine or a second replica.</summary>
    public static void WarnIfKeyRingIsPerMachine(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() && string.IsNullOrWhiteSpace(app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.KeyRingPath))
        {
            LogKeyRingPerMachine(app.Logger);
        }
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Gateway:KeyRingPath is not set: session cookies are sealed with this machine's own keys, so another gateway replica, or this one moved elsewhere, signs everyone out (docs/gateway.md)")]
    private static partial void LogKeyRingPerMachine(ILogger logger);
}
