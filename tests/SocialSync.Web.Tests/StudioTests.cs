using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>SocialSync Studio in a real browser, through the gateway, against the real provider and PostsService.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioTests(BrowserFixture fixture)
{
    private static Task SignUpAsync(IPage page, string email) => StudioSession.SignUpAsync(page, email);

    [Fact]
    public async Task A_new_user_signs_up_connects_a_whatsapp_channel_and_schedules_a_post_from_the_calendar_in_their_time_zone()
    {
        await using var context = await fixture.NewContextAsync(timeZone: "America/New_York");
        var page = await context.NewPageAsync();
        var email = $"studio-{Guid.NewGuid():N}@example.test";

        await SignUpAsync(page, email);
        await Assertions.Expect(page.GetByText(email)).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("time-zone")).ToHaveTextAsync("America/New_York");

        await StudioSession.ConnectWhatsAppAsync(page, "1065550009001", "+16505550199");

        // Tomorrow in New York, on the calendar (a week ahead when today is the week's last day).
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var tomorrow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, newYork).Date.AddDays(1);
        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        if (tomorrow.DayOfWeek == DayOfWeek.Monday)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next week" }).ClickAsync();
        }
        await page.GetByRole(AriaRole.Button, new() { Name = $"New post on {tomorrow:dddd d MMMM}" }).ClickAsync();

        await page.GetByRole(AriaRole.Heading, new() { Name = "New post" }).WaitForAsync();
        await Assertions.Expect(page.GetByLabel(new Regex("^Publish at"))).ToHaveValueAsync($"{tomorrow:yyyy-MM-dd}T09:00");
        await page.GetByLabel("Text").FillAsync("Fresh bread at nine, from the studio");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "composer.png") });
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync();
        if (tomorrow.DayOfWeek == DayOfWeek.Monday)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next week" }).ClickAsync();
        }
        var day = page.GetByRole(AriaRole.Region, new() { Name = $"{tomorrow:dddd d MMMM}" });
        await Assertions.Expect(day).ToContainTextAsync("09:00");
        await Assertions.Expect(day).ToContainTextAsync("Fresh bread at nine");
        await Assertions.Expect(day).ToContainTextAsync("queued");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "calendar.png") });
    }

    [Fact]
    public async Task A_post_the_api_refuses_shows_the_reason_and_nothing_is_scheduled()
    {
        await using var context = await fixture.NewContextAsync(width: 390, height: 844);
        var page = await context.NewPageAsync();
        await SignUpAsync(page, $"studio-{Guid.NewGuid():N}@example.test");
        await StudioSession.ConnectWhatsAppAsync(page, "1065550009002", "+16505550198");

        await page.GetByRole(AriaRole.Link, new() { Name = "New post" }).ClickAsync();
        await page.GetByLabel("Text").FillAsync("Too late");
        await page.GetByLabel(new Regex("^Publish at")).FillAsync("2020-01-01T09:00");
        Assert.Equal("2020-01-01T09:00", await page.GetByLabel(new Regex("^Publish at")).InputValueAsync());
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("publish_at");
        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "List view" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Posts this week" })).Not.ToContainTextAsync("Too late");
    }
}
