using Microsoft.Playwright;
using SocialSync.Testing;

namespace SocialSync.Web.Tests;

/// <summary>
/// The system behind the gateway (<see cref="GatewaySystem"/>) and Debian's chromium driven by Playwright (its own
/// browser download cannot reach the internet here; <c>./build.sh</c> installs chromium).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public GatewaySystem System { get; private set; } = null!;

    public IPlaywright Playwright { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where the tests save their screenshots (the README shows two of them).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        System = await GatewaySystem.StartAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath(),
            // As root (CI, these machines) chromium's sandbox cannot start.
            Args = ["--no-sandbox"],
        });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    private static string ChromiumPath() =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("chromium is not installed: ./build.sh test installs it (apt-get install chromium).");

    /// <summary>A fresh browser profile (no cookies) at a given size and time zone.</summary>
    public Task<IBrowserContext> NewContextAsync(string timeZone = "America/New_York", int width = 1440, int height = 900) =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = System.Gateway.HttpAddress.AbsoluteUri,
            TimezoneId = timeZone,
            Locale = "en-US",
            ViewportSize = new ViewportSize { Width = width, Height = height },
        });

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
