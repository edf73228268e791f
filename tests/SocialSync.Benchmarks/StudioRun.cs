using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Playwright;
using SocialSync.Testing;

namespace SocialSync.Benchmarks;

/// <summary>
/// The web app's speed as a user meets it (issue 19, item 4): the first load of SocialSync Studio over loopback (what
/// crosses the wire, compressed, and the time until the calendar answers clicks) and a month of 1,000 posts rendered.
/// The system is the gateway's (PostgreSQL, identity provider, PostsService, gateway) as Release builds, once with the
/// gateway's build output and once published; the browser is Debian's chromium driven by Playwright, each cold load in
/// a new profile (empty cache) with the session cookie.
/// </summary>
public static class StudioRun
{
    public const int MonthPosts = 1000;
    private const int Rounds = 5;
    private const string Password = "correct horse battery staple";

    public static async Task<StudioReport> RunAsync(TextWriter log)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("chromium is not installed: ./build.sh installs it (apt-get install chromium)."),
            Args = ["--no-sandbox"],
        });
        log.WriteLine("studio: the app as `dotnet build` leaves it (what ./build.sh run serves)");
        var built = await MeasureAsync(browser, null, log);
        log.WriteLine("studio: publishing the gateway (trimmed, brotli), as a deployment serves it");
        var published = await MeasureAsync(browser, await PublishGatewayAsync(), log);
        return new StudioReport(built, published, NextMonth());
    }

    /// <summary>First loads and month renders against one system whose gateway is the build output or <paramref name="gatewayAssembly"/>.</summary>
    private static async Task<StudioFigures> MeasureAsync(IBrowser browser, string? gatewayAssembly, TextWriter log)
    {
        await using var system = await GatewaySystem.StartAsync(gatewayAssembly: gatewayAssembly);
        var options = new BrowserNewContextOptions
        {
            BaseURL = system.Gateway.HttpAddress.AbsoluteUri,
            TimezoneId = "UTC",
            Locale = "en-US",
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
        };

        string session;
        await using (var setup = await browser.NewContextAsync(options))
        {
            await SignUpAsync(await setup.NewPageAsync(), $"bench-{Guid.NewGuid():N}@example.test");
            await CreateMonthAsync(setup, NextMonth());
            session = await setup.StorageStateAsync();
        }

        var loads = new List<FirstLoad>();
        for (var round = 0; round < Rounds; round++)
        {
            loads.Add(await FirstLoadAsync(browser, new BrowserNewContextOptions(options) { StorageState = session }));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"studio: cold load {round + 1}: {loads[^1].Milliseconds:F0} ms, {loads[^1].TransferredBytes / 1024.0:F0} KiB"));
        }

        var months = new List<double>();
        await using (var context = await browser.NewContextAsync(new BrowserNewContextOptions(options) { StorageState = session }))
        {
            var page = await context.NewPageAsync();
            await page.GotoAsync("/");
            await page.GetByRole(AriaRole.Button, new() { Name = "Month view" }).ClickAsync();
            await page.Locator(".month-grid").WaitForAsync();
            for (var round = 0; round < Rounds; round++)
            {
                months.Add(await NextMonthRenderedAsync(page));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"studio: month of {MonthPosts} posts: {months[^1]:F0} ms"));
                await page.GetByRole(AriaRole.Button, new() { Name = "Previous month" }).ClickAsync();
                await page.WaitForFunctionAsync("n => document.querySelectorAll('.month-grid .chip').length < n", MonthPosts);
            }
        }
        return new StudioFigures(loads, months);
    }

    /// <summary><c>dotnet publish</c> of the gateway (and so of the app it serves) into a temporary folder; its dll.</summary>
    private static async Task<string> PublishGatewayAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), $"socialsync-studio-{Guid.NewGuid():N}");
        var project = Path.Combine(RepositoryPaths.Root, "SocialSync.Gateway", "SocialSync.Gateway.csproj");
        using var publish = Process.Start(new ProcessStartInfo("dotnet", ["publish", project, "-c", "Release", "-o", output, "-nologo", "-v", "quiet"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stdout = publish.StandardOutput.ReadToEndAsync();
        var stderr = publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        return publish.ExitCode == 0
            ? Path.Combine(output, "SocialSync.Gateway.dll")
            : throw new InvalidOperationException($"dotnet publish failed:{Environment.NewLine}{await stdout}{await stderr}");
    }

    /// <summary>A fresh profile opens the app signed in; the clock stops when the calendar's toolbar answers a click.</summary>
    private static async Task<FirstLoad> FirstLoadAsync(IBrowser browser, BrowserNewContextOptions options)
    {
        await using var context = await browser.NewContextAsync(options);
        var page = await context.NewPageAsync();
        var finished = new List<IRequest>();
        page.RequestFinished += (_, request) => finished.Add(request);
        var clock = Stopwatch.StartNew();
        await page.GotoAsync("/");
        // Interactive: Blazor has rendered the calendar and handles its buttons (the week view answers the click).
        await page.GetByRole(AriaRole.Button, new() { Name = "Month view" }).ClickAsync();
        await page.Locator(".month-grid").WaitForAsync();
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        long transferred = 0, body = 0;
        var compressed = 0;
        foreach (var request in finished.ToList())
        {
            var sizes = await request.SizesAsync();
            transferred += sizes.ResponseBodySize + sizes.ResponseHeadersSize;
            body += sizes.ResponseBodySize;
            if (await request.ResponseAsync() is { } response && (await response.HeaderValueAsync("content-encoding")) is "br" or "gzip")
            {
                compressed++;
            }
        }
        return new FirstLoad(elapsed, finished.Count, transferred, body, compressed);
    }

    private static async Task<double> NextMonthRenderedAsync(IPage page)
    {
        var clock = Stopwatch.StartNew();
        await page.GetByRole(AriaRole.Button, new() { Name = "Next month" }).ClickAsync();
        await page.WaitForFunctionAsync("n => document.querySelectorAll('.month-grid .chip').length >= n", MonthPosts,
            new() { PollingInterval = 10 });
        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task SignUpAsync(IPage page, string email)
    {
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.Locator("form button[type=submit], form input[type=submit]").ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync(new() { Timeout = 60_000 });
    }

    /// <summary>1,000 posts spread over next month's days and hours, in two batches, through the gateway's REST routes.</summary>
    private static async Task CreateMonthAsync(IBrowserContext context, DateTime month)
    {
        var channel = await PostJsonAsync(context, "/api/channels", new
        {
            platform = "whatsapp",
            account_id = "1065550001000",
            access_token = "EAAG-bench",
            settings = new { recipients = new[] { "+16505550100" } },
        });
        var channelId = channel.GetProperty("id").GetString();
        var days = DateTime.DaysInMonth(month.Year, month.Month);
        var posts = Enumerable.Range(0, MonthPosts).Select(i => new
        {
            channel_id = channelId,
            content = new { text = $"Post {i + 1} of the month" },
            publish_at = month.AddDays(i % days).AddHours(8 + i % 12).AddMinutes(i % 60).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        }).ToList();
        foreach (var batch in posts.Chunk(500))
        {
            await PostJsonAsync(context, "/api/posts:batchCreate", new { requests = batch });
        }
    }

    private static async Task<System.Text.Json.JsonElement> PostJsonAsync(IBrowserContext context, string path, object body)
    {
        var response = await context.APIRequest.PostAsync(path, new()
        {
            Headers = new Dictionary<string, string> { ["X-CSRF"] = "1" },
            DataObject = body,
        });
        var text = await response.TextAsync();
        return response.Ok
            ? System.Text.Json.JsonDocument.Parse(text).RootElement.Clone()
            : throw new InvalidOperationException($"POST {path}: {response.Status} {text}");
    }

    private static DateTime NextMonth()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
    }
}

public sealed record FirstLoad(double Milliseconds, int Requests, long TransferredBytes, long BodyBytes, int CompressedResponses);

public sealed record StudioFigures(IReadOnlyList<FirstLoad> Loads, IReadOnlyList<double> MonthMilliseconds);

public sealed record StudioReport(StudioFigures Built, StudioFigures Published, DateTime Month)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public async Task<string> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "studio.md");
        await File.WriteAllTextAsync(path, Markdown());
        return path;
    }

    private string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# SocialSync Studio: first load and a month of 1,000 posts");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- when: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; commit `{BenchmarkReport.Git("rev-parse --short HEAD")}`; command `./build.sh bench --studio`");
        sb.AppendLine(Inv, $"- machine: {Environment.ProcessorCount} cores, {BenchmarkReport.MemoryGiB():F1} GiB memory, {Environment.OSVersion}, .NET {Environment.Version}");
        sb.AppendLine("- system: the gateway serving the app, identity provider, PostsService, PostgreSQL (Release builds); Debian's chromium over loopback, no network throttling");
        sb.AppendLine("- two gateways: **published** is `dotnet publish -c Release` (the app trimmed, brotli files beside each), as a deployment serves it; **built** is the build output, as `./build.sh run` serves it (untrimmed)");
        sb.AppendLine();
        sb.AppendLine("## First load (a new browser profile, empty cache, already signed in)");
        sb.AppendLine();
        sb.AppendLine("Until the calendar is interactive: the page is opened and its \"Month view\" button clicked; the clock stops when the month grid is drawn. Bytes are as they crossed the wire (compressed bodies and headers).");
        sb.AppendLine();
        sb.AppendLine("| app | time to an interactive calendar | over the wire | requests (compressed) |");
        sb.AppendLine("|---|---|---|---|");
        Row(sb, "published", Published);
        Row(sb, "built", Built);
        sb.AppendLine();
        sb.AppendLine(Inv, $"## A month of {StudioRun.MonthPosts:N0} posts ({Month:MMMM yyyy})");
        sb.AppendLine();
        sb.AppendLine("From the click on \"Next month\" until every post's chip is in the month grid: the six weeks' posts read 100 at a time (`ListPosts` with `publish_time_start/end`), placed and rendered.");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- published: {Distribution.Of(Published.MonthMilliseconds.ToList())}");
        sb.AppendLine(Inv, $"- built: {Distribution.Of(Built.MonthMilliseconds.ToList())}");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string name, StudioFigures figures)
    {
        var load = Distribution.Of(figures.Loads.Select(l => l.Milliseconds).ToList());
        var first = figures.Loads[0];
        sb.AppendLine(Inv, $"| {name} | median {load.P50:F0} ms, max {load.Max:F0} ms ({load.Count} cold loads) | {first.TransferredBytes / 1024.0 / 1024.0:F2} MiB | {first.Requests} ({first.CompressedResponses}) |");
    }
}
