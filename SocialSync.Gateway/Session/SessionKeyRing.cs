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

    /// <summary>The file replicas lock while they load the ring (and make its first key when it has none).</summary>
    public const string LockFileName = "key-ring.lock";

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);

    public static void AddSessionKeyRing(this WebApplicationBuilder builder, GatewayOptions options)
    {
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName(ApplicationName);
        if (!string.IsNullOrWhiteSpace(options.KeyRingPath))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(options.KeyRingPath));
        }
    }

    /// <summary>
    /// Loads the shared ring before the gateway serves anyone, one replica at a time. Replicas that start together on
    /// an empty ring would otherwise each make a first key of their own, and a replica that read the folder before
    /// another's key was written looks again for an unknown key only in its first two minutes: after that, each
    /// signs out the people whose cookies the other sealed, until its cached ring expires a day later.
    /// </summary>
    public static void LoadSessionKeyRing(this WebApplication app)
    {
        var path = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.KeyRingPath;
        if (string.IsNullOrWhiteSpace(path))
        {
            if (!app.Environment.IsDevelopment())
            {
                LogKeyRingPerMachine(app.Logger);
            }
            return;
        }
        Directory.CreateDirectory(path);
        using var held = HoldLock(Path.Combine(path, LockFileName), app.Logger);
        // Protecting anything makes Data Protection read the ring, and write its first key when it has none.
        app.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(ApplicationName).Protect([]);
    }

    private static FileStream? HoldLock(string lockFile, ILogger logger)
    {
        var giveUpAt = DateTime.UtcNow + LockWait;
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock on the file for as long as it stays open, across processes.
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < giveUpAt)
            {
                Thread.Sleep(100);
            }
            catch (IOException exception)
            {
                LogKeyRingLockNotTaken(logger, lockFile, LockWait.TotalSeconds, exception.Message);
                return null;
            }
        }
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "Gateway:KeyRingPath is not set: session cookies are sealed with this machine's own keys, so another gateway replica, or this one moved elsewhere, signs everyone out (docs/gateway.md)")]
    private static partial void LogKeyRingPerMachine(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning,
        Message = "The key ring's lock {LockFile} was not free after {WaitSeconds} s ({Error}); loading the ring without it")]
    private static partial void LogKeyRingLockNotTaken(ILogger logger, string lockFile, double waitSeconds, string error);
}
