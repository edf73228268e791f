using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>The Import page: a CSV file checked before anything is written, each bad row's error shown, progress while it runs.</summary>
[Collection(StudioCollection.Name)]
public sealed class ImportPageTests(BrowserFixture fixture)
{
    private const string Header = "channel_id,publish_at,time_zone,text,media,recipients,rrule";

    private static string At(int minutes) =>
        DateTimeOffset.UtcNow.AddDays(2).AddMinutes(minutes).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static FilePayload Csv(params string[] rows) => new()
    {
        Name = "posts.csv",
        MimeType = "text/csv",
        Buffer = Encoding.UTF8.GetBytes(Header + "\n" + string.Join("\n", rows) + "\n"),
    };

    private static async Task<(IPage Page, string ChannelId)> SignedInWithAChannelAsync(IBrowserContext context, string accountId)
    {
        var page = await StudioSession.SignUpAsync(context, $"import-{Guid.NewGuid():N}@example.test");
        var channel = await StudioSession.PostAsync(context, "/api/channels", new
        {
            platform = "whatsapp",
            account_id = accountId,
            access_token = "EAAG-import",
            settings = new { recipients = new[] { "+16505550103" } },
        });
        return (page, channel.GetProperty("id").GetString()!);
    }

    private static async Task<int> PostCountAsync(IBrowserContext context)
    {
        var response = await context.APIRequest.GetAsync("/api/posts");
        var json = JsonDocument.Parse(await response.TextAsync()).RootElement;
        return json.TryGetProperty("posts", out var posts) ? posts.GetArrayLength() : 0;
    }

    [Fact]
    public async Task A_csv_with_bad_rows_shows_each_rows_line_column_and_reason_and_nothing_is_written()
    {
        await using var context = await fixture.NewContextAsync(width: 390, height: 844);
        var (page, channelId) = await SignedInWithAChannelAsync(context, "1065550009201");

        await page.GetByRole(AriaRole.Link, new() { Name = "Import" }).ClickAsync();
        await page.GetByLabel("CSV file").SetInputFilesAsync(Csv(
            $"{channelId},{At(0)},,good row,,,",
            $"{channelId},2026-12-24T09:00:00,,no offset,,,",
            $"{channelId},{At(2)},,bad media,image:ftp://example.com/a.jpg,,"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Nothing was imported");
        var errors = page.GetByRole(AriaRole.Table, new() { Name = "Row errors" });
        var rows = errors.Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await Assertions.Expect(rows.Nth(0).Locator("td").Nth(0)).ToHaveTextAsync("3");
        await Assertions.Expect(rows.Nth(0).Locator("td").Nth(1)).ToHaveTextAsync("2 (publish_at)");
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(0)).ToHaveTextAsync("4");
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(1)).ToHaveTextAsync("5 (media)");
        await Assertions.Expect(rows.Nth(1).Locator("td").Nth(2)).Not.ToBeEmptyAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "import-errors.png") });

        Assert.Equal(0, await PostCountAsync(context));
    }

    [Fact]
    public async Task A_valid_csv_imports_with_its_progress_and_result_shown()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, channelId) = await SignedInWithAChannelAsync(context, "1065550009202");

        await page.GetByRole(AriaRole.Link, new() { Name = "Import" }).ClickAsync();
        await page.GetByLabel("CSV file").SetInputFilesAsync(Csv(
            $"{channelId},{At(0)},,first imported,,,",
            $"{channelId},{At(1)},,second imported,,,",
            $"{channelId},{At(2)},,third imported,,,"));
        // Keyboard only: from the file picker to the button.
        await page.GetByLabel("CSV file").FocusAsync();
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.PressAsync("Enter");

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync("Imported: 3 new posts, 0 already there.", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByLabel("Rows written")).ToHaveAttributeAsync("value", "3");
        Assert.Equal(3, await PostCountAsync(context));
    }
}
