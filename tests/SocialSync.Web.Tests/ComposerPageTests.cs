using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static SocialSync.Web.Tests.PlanningSteps;

namespace SocialSync.Web.Tests;

/// <summary>The composer: the server's checks as you type, per-platform previews, templates, recurrence and the queue.</summary>
[Collection(StudioCollection.Name)]
public sealed class ComposerPageTests(BrowserFixture fixture)
{
    private static string NewEmail() => $"composer-{Guid.NewGuid():N}@example.test";

    private static async Task<int> PostCountAsync(IBrowserContext context)
    {
        var response = await context.APIRequest.GetAsync("/api/posts");
        var json = JsonDocument.Parse(await response.TextAsync()).RootElement;
        return json.TryGetProperty("posts", out var posts) ? posts.GetArrayLength() : 0;
    }

    private static async Task OpenComposerAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "New post" }).ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "New post" }).WaitForAsync();
        await Assertions.Expect(page.GetByLabel("Text")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_media_url_is_checked_by_the_server_as_it_is_typed_and_the_whatsapp_bubble_shows_the_post()
    {
        await using var context = await fixture.NewContextAsync(width: 390, height: 844);
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        await WhatsAppChannelAsync(context, "1065550009401");
        await OpenComposerAsync(page);

        await page.GetByLabel("Text").FillAsync("Bread is out of the oven");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add media" }).ClickAsync();
        var url = page.GetByLabel("Media 1 URL");
        await url.FillAsync("ftp://example.com/loaf.jpg");
        await Assertions.Expect(url).ToHaveAccessibleDescriptionAsync("must be an absolute http(s) URL of at most 2048 characters");
        await Assertions.Expect(url).ToHaveAttributeAsync("aria-invalid", "true");

        await url.FillAsync("https://example.com/loaf.jpg");
        await Assertions.Expect(page.GetByText("The server's checks pass")).ToBeVisibleAsync();
        await Assertions.Expect(url).ToHaveAccessibleDescriptionAsync("");
        await Assertions.Expect(url).ToHaveAttributeAsync("aria-invalid", "false");

        var bubble = page.GetByRole(AriaRole.Figure, new() { Name = "WhatsApp message preview" });
        await Assertions.Expect(bubble).ToContainTextAsync("Bread is out of the oven");
        await Assertions.Expect(bubble.GetByRole(AriaRole.Img, new() { Name = "Image 1" })).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "composer-preview-390.png"), FullPage = true });

        // Checking wrote nothing.
        Assert.Equal(0, await PostCountAsync(context));
    }

    [Fact]
    public async Task The_instagram_preview_frames_the_post_as_the_channel_publishes_it_and_as_a_feed_story_or_reel()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        await StudioSession.PostAsync(context, "/api/channels", new
        {
            platform = "instagram",
            account_id = "17841" + Random.Shared.NextInt64(100_000_000, 999_999_999),
            display_name = "corner.bakery",
            access_token = "IGQ-composer",
            settings = new { instagram_mode = "INSTAGRAM_MODE_STORY" },
        });
        await OpenComposerAsync(page);
        await page.GetByLabel("Text").FillAsync("Behind the counter at dawn");

        var story = page.GetByRole(AriaRole.Figure, new() { Name = "Instagram story preview" });
        await Assertions.Expect(story).ToContainTextAsync("Behind the counter at dawn");
        await page.GetByRole(AriaRole.Radio, new() { Name = "Reel" }).CheckAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = "Instagram reel preview" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "Feed" }).CheckAsync();
        var feed = page.GetByRole(AriaRole.Figure, new() { Name = "Instagram feed preview" });
        await Assertions.Expect(feed).ToContainTextAsync("No media yet");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add media" }).ClickAsync();
        await page.GetByLabel("Media 1 URL").FillAsync("https://example.com/counter.jpg");
        await Assertions.Expect(feed.GetByRole(AriaRole.Img, new() { Name = "Image 1" })).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "composer-instagram.png") });
    }

    [Fact]
    public async Task A_template_picked_in_the_composer_is_rendered_with_the_values_typed_and_its_defaults()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        await WhatsAppChannelAsync(context, "1065550009403");
        await StudioSession.PostAsync(context, "/api/templates", new
        {
            name = "Welcome back",
            variables = new object[] { new { name = "first_name" }, new { name = "day", default_value = "Friday" } },
            content = new { text = "Hi {{first_name}}, see you {{ day }}!" },
        });
        await OpenComposerAsync(page);

        await page.GetByLabel("Template").SelectOptionAsync(new SelectOptionValue { Label = "Welcome back" });
        await page.GetByLabel("first_name").FillAsync("Ana");
        await Assertions.Expect(page.GetByLabel("day", new() { Exact = true })).ToHaveValueAsync("Friday");
        await page.GetByRole(AriaRole.Button, new() { Name = "Use template" }).ClickAsync();

        await Assertions.Expect(page.GetByLabel("Text")).ToHaveValueAsync("Hi Ana, see you Friday!");
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = "WhatsApp message preview" })).ToContainTextAsync("Hi Ana, see you Friday!");
    }

    [Fact]
    public async Task A_daily_rule_shows_its_next_five_times_and_a_draft_added_to_the_queue_takes_the_next_free_slot()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009404");
        await DailyScheduleAsync(context, channelId, "06:30");
        await OpenComposerAsync(page);

        var tomorrow = TodayInNewYork.AddDays(1);
        await page.GetByLabel(new Regex("^Publish at")).FillAsync($"{tomorrow:yyyy-MM-dd}T11:00");
        await page.GetByLabel("Repeats").SelectOptionAsync(new SelectOptionValue { Label = "Every day" });
        var occurrences = page.GetByRole(AriaRole.List, new() { Name = "Next occurrences" }).GetByRole(AriaRole.Listitem);
        await Assertions.Expect(occurrences).ToHaveTextAsync(
            Enumerable.Range(0, 5).Select(d => $"{tomorrow.AddDays(d):dddd d MMMM yyyy} 11:00").ToArray());

        await page.GetByLabel("Text").FillAsync("Queued loaves");
        await page.GetByLabel("Add to queue").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save draft" }).ClickAsync();

        // The first free 06:30 from now, in New York.
        var nowInNewYork = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, NewYork).DateTime;
        var slotDay = nowInNewYork < TodayInNewYork.AddHours(6).AddMinutes(30) ? TodayInNewYork : tomorrow;
        var day = await DayInWeekAsync(page, slotDay);
        var cell = day.Locator($"[data-hour='{slotDay:yyyy-MM-dd}T06:00']");
        await Assertions.Expect(cell).ToContainTextAsync("06:30 Queued loaves");
        await Assertions.Expect(cell).ToContainTextAsync("draft");
        await Assertions.Expect(cell).Not.ToContainTextAsync("queue slot");
    }

    [Fact]
    public async Task Publish_next_puts_the_post_in_the_earliest_slot_and_the_queue_post_there_moves_to_the_next()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009405");
        await DailyScheduleAsync(context, channelId, "07:10");
        await StudioSession.PostAsync(context, $"/api/channels/{channelId}/queue", new
        {
            content = new { text = "Earlier loaf" },
            request_id = Guid.NewGuid().ToString(),
        });
        await OpenComposerAsync(page);

        await page.GetByLabel("Text").FillAsync("Hot news");
        await page.GetByLabel("Publish next").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        // The first 07:10 from now in New York, and the one a day later.
        var nowInNewYork = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, NewYork).DateTime;
        var first = nowInNewYork < TodayInNewYork.AddHours(7).AddMinutes(10) ? TodayInNewYork : TodayInNewYork.AddDays(1);
        var head = await DayInMonthAsync(page, first);
        await Assertions.Expect(head).ToContainTextAsync("07:10 Hot news");
        await Assertions.Expect(head).Not.ToContainTextAsync("Earlier loaf");
        var next = page.GetByRole(AriaRole.Region, new() { Name = $"{first.AddDays(1):dddd d MMMM}", Exact = true });
        await Assertions.Expect(next).ToContainTextAsync("07:10 Earlier loaf");
    }
}
