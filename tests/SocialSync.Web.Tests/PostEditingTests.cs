using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static SocialSync.Web.Tests.PlanningSteps;

namespace SocialSync.Web.Tests;

/// <summary>The composer's edit mode, opened from a post's page: it shows the post as it is and sends what changed.</summary>
[Collection(StudioCollection.Name)]
public sealed class PostEditingTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_scheduled_post_edited_in_the_composer_publishes_once_with_its_new_text_at_its_new_time_and_then_offers_no_edit()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, $"editing-{Guid.NewGuid():N}@example.test");
        var account = $"10657{Random.Shared.Next(10_000_000, 99_999_999)}";
        await StudioSession.ConnectWhatsAppAsync(page, account, "+16505550143");
        var channelId = (await StudioSession.GetAsync(context, "/api/channels")).GetProperty("channels")[0].GetProperty("id").GetString()!;
        var tomorrowAtNine = TodayInNewYork.AddDays(1).AddHours(9);
        var id = (await PostAsync(context, channelId, "Rye at nine", tomorrowAtNine)).GetProperty("id").GetString()!;

        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        var day = await DayInWeekAsync(page, tomorrowAtNine.Date);
        await day.GetByRole(AriaRole.Link, new() { Name = "Open the post at 09:00" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Edit", Exact = true }).ClickAsync();

        await page.GetByRole(AriaRole.Heading, new() { Name = "Edit post" }).WaitForAsync();
        var text = page.GetByLabel("Text");
        var publishAt = page.GetByLabel(new Regex("^Publish at"));
        await Assertions.Expect(text).ToHaveValueAsync("Rye at nine");
        await Assertions.Expect(publishAt).ToHaveValueAsync($"{tomorrowAtNine:yyyy-MM-dd}T09:00");
        await Assertions.Expect(page.GetByLabel("Channel")).ToBeDisabledAsync();

        // Two minutes ahead, to the minute, in New York: soon enough to watch it go out.
        var nowInNewYork = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, NewYork).DateTime;
        var newTime = nowInNewYork.Date.AddHours(nowInNewYork.Hour).AddMinutes(nowInNewYork.Minute + 2);
        await text.FillAsync("Rye at noon instead");
        await publishAt.FillAsync($"{newTime:yyyy-MM-ddTHH:mm}");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "composer-edit.png") });
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Post", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".post-text")).ToHaveTextAsync("Rye at noon instead");
        var history = page.GetByRole(AriaRole.List, new() { Name = "History" });
        await Assertions.Expect(history).ToContainTextAsync("edited · content, publish_at");

        // Published once, with the new text, not before the new time; the page follows it live and then offers no edit.
        await Assertions.Expect(page.Locator(".status-word")).ToHaveTextAsync("published", new() { Timeout = 240_000 });
        var sent = Assert.Single(await fixture.System.Emulator!.EffectsAsync(account));
        Assert.Equal("Rye at noon instead", sent.GetProperty("text").GetString());
        var publishedAt = (await GetPostAsync(context, id)).GetProperty("publishedAt").GetDateTimeOffset();
        Assert.True(publishedAt >= new DateTimeOffset(newTime, NewYork.GetUtcOffset(newTime)), $"published at {publishedAt:O}, before {newTime:HH:mm} New York");
        await Assertions.Expect(page.GetByText("A published post cannot be edited.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Edit", Exact = true })).ToHaveCountAsync(0);
    }
}
