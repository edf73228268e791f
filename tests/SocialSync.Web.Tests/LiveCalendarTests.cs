using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>
/// The calendar follows the WatchPosts stream over gRPC-Web through the gateway (issue 19, "Live"): a post appears
/// and turns published while the user watches, with no reload and no polling.
/// </summary>
[Collection(StudioCollection.Name)]
public sealed class LiveCalendarTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_post_scheduled_seconds_ahead_appears_and_turns_published_on_the_calendar_without_a_reload()
    {
        await using var context = await fixture.NewContextAsync(timeZone: "America/New_York");
        var page = await StudioSession.SignUpAsync(context, $"live-{Guid.NewGuid():N}@example.test");
        var phoneNumberId = $"10655{Random.Shared.Next(10_000_000, 99_999_999)}";
        await StudioSession.ConnectWhatsAppAsync(page, phoneNumberId, "+16505550197");
        var channelId = (await StudioSession.GetAsync(context, "/api/channels")).GetProperty("channels")[0].GetProperty("id").GetString();

        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var publishAt = DateTimeOffset.UtcNow.AddSeconds(20);
        var today = page.GetByRole(AriaRole.Region, new() { Name = $"{TimeZoneInfo.ConvertTime(publishAt, newYork):dddd d MMMM}" });
        await today.WaitForAsync();

        // From here on the page must not load again: a reload would lose this mark, and would be a navigation.
        await page.EvaluateAsync("() => { window.socialsyncStillTheSamePage = true; }");
        var navigations = 0;
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
            {
                navigations++;
            }
        };

        // Scheduled elsewhere (another tab, a script): the calendar shows it, then sees it published.
        await StudioSession.PostAsync(context, "/api/posts", new
        {
            channel_id = channelId,
            content = new { text = "Warm rolls, live" },
            publish_at = publishAt.ToString("O"),
        });
        await Assertions.Expect(today).ToContainTextAsync("Warm rolls, live");
        await Assertions.Expect(today).ToContainTextAsync("queued");
        await Assertions.Expect(today).ToContainTextAsync("published", new() { Timeout = 120_000 });
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "calendar-live.png") });

        Assert.True(await page.EvaluateAsync<bool>("() => window.socialsyncStillTheSamePage === true"), "the page was loaded again");
        Assert.Equal(0, navigations);
        var sent = await fixture.System.Emulator!.EffectsAsync(phoneNumberId);
        Assert.Single(sent);
    }
}
