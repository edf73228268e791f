using Microsoft.Playwright;
using SocialSync.Testing;

namespace SocialSync.Web.Tests;

/// <summary>
/// The system behind the gateway (<see cref="GatewaySystem"/>, publishing to the Graph API emulator) and Debian's chromium driven by Playwright (its own
/// browser download cannot reach the internet here; <c>./build.sh</c> installs chromium).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public GatewaySystem System { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The Aspire dashboard the gateway tells the app about, as the AppHost does.</summary>
    public const string DashboardUrl = "http://dashboard.test:18888";

    /// <summary>Where the tests save their screenshots (the README shows two of them).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        // With publishing: a post scheduled a few seconds ahead goes out on the emulator (LiveCalendarTests).
        // The dashboard's address is only written into links (the post detail's trace link): nothing listens there.
        System = await GatewaySystem.StartAsync(new Dictionary<string, string?> { ["Gateway__DashboardUrl"] = DashboardUrl }, publishing: true);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            // As root (CI, these machines) chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
        // Expectations retry until they hold; on a loaded machine a gRPC round trip plus a render can pass 5 s.
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    private static string ChromiumPath() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("chromium is not installed: ./build.sh test installs it (apt-get install chromium).");

    /// <summary>A fresh browser profile (no cookies) at a given size and time zone.</summary>
    public async Task<IBrowserContext> NewContextAsync(string timeZone = "America/New_York", int width = 1440, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = System.Gateway.HttpAddress.AbsoluteUri,
            TimezoneId = timeZone,
            Locale = "en-US",
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });
        // A fresh profile downloads and starts the WebAssembly runtime and the Debug build's assemblies; on CI's two
        // cores, busy with the other test projects, that alone took more than Playwright's 30 s default. The waits
        // bound a hang, they do not measure speed.
        context.SetDefaultTimeout(90_000);
        return context;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        if (System is not null)
        {
            await System.DisposeAsync();
        }
    }
}

/// <summary>
/// One system and one chromium for every page test class: three systems side by side (each with its PostgreSQL,
/// identity provider, PostsService and gateway) and three browsers starting at once starved CI's two cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class StudioCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "studio";
}
