using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static SocialSync.Web.Tests.PlanningSteps;

namespace SocialSync.Web.Tests;

/// <summary>The calendar: an hour grid, a month, a zone of the user's choosing, drag to reschedule, queue slots and series.</summary>
[Collection(StudioCollection.Name)]
public sealed class CalendarPageTests(BrowserFixture fixture)
{
    private static string NewEmail() => $"calendar-{Guid.NewGuid():N}@example.test";

    [Fact]
    public async Task Clicking_an_empty_hour_of_the_week_grid_opens_the_composer_at_exactly_that_hour()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        await WhatsAppChannelAsync(context, "1065550009301");
        await page.ReloadAsync();

        var tomorrow = TodayInNewYork.AddDays(1);
        await DayInWeekAsync(page, tomorrow);
        await page.GetByRole(AriaRole.Button, new() { Name = $"New post at 14:00 on {tomorrow:dddd d MMMM}", Exact = true }).ClickAsync();

        await page.GetByRole(AriaRole.Heading, new() { Name = "New post" }).WaitForAsync();
        await Assertions.Expect(page.GetByLabel(new Regex("^Publish at"))).ToHaveValueAsync($"{tomorrow:yyyy-MM-dd}T14:00");
        await page.GetByLabel("Text").FillAsync("Afternoon tea at two");
        await page.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();

        var day = await DayInWeekAsync(page, tomorrow);
        await Assertions.Expect(day.Locator("[data-hour='" + $"{tomorrow:yyyy-MM-dd}T14:00" + "']")).ToContainTextAsync("14:00 Afternoon tea at two");
    }

    [Fact]
    public async Task The_month_view_shows_each_posts_time_and_a_post_dragged_to_another_day_keeps_its_hour_and_minutes()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009302");
        var day = TodayInNewYork.AddDays(2);
        var post = await PostAsync(context, channelId, "Sourdough class, bring an apron", day.AddHours(10).AddMinutes(37));
        await PostAsync(context, channelId, "Pastry today", day.AddHours(16).AddMinutes(5));
        await page.ReloadAsync();

        var from = await DayInMonthAsync(page, day);
        await Assertions.Expect(from).ToContainTextAsync("10:37 Sourdough class");
        await Assertions.Expect(from).ToContainTextAsync("16:05 Pastry today");
        await Assertions.Expect(from.GetByRole(AriaRole.Img, new() { Name = "WhatsApp" }).First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "calendar-month.png"), FullPage = true });

        var target = day.AddDays(3);
        var to = page.GetByRole(AriaRole.Region, new() { Name = $"{target:dddd d MMMM}", Exact = true });
        await from.Locator(".chip", new() { HasText = "Sourdough class" }).DragToAsync(to);

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Moved to {target:dddd d MMMM} 10:37");
        await Assertions.Expect(to).ToContainTextAsync("10:37 Sourdough class");
        await Assertions.Expect(from).Not.ToContainTextAsync("Sourdough class");
        var moved = await GetPostAsync(context, post.GetProperty("id").GetString()!);
        Assert.Equal(DateTimeOffset.Parse(NewYorkInstant(target.AddHours(10).AddMinutes(37))),
            DateTimeOffset.Parse(moved.GetProperty("publishAt").GetString()!));
    }

    [Fact]
    public async Task A_post_dropped_on_a_past_day_is_refused_on_the_page_without_a_call_and_the_keyboard_moves_it_a_day()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009303");
        var tomorrow = TodayInNewYork.AddDays(1);
        var yesterday = TodayInNewYork.AddDays(-1);
        var post = await PostAsync(context, channelId, "Market stall", tomorrow.AddHours(8).AddMinutes(15));
        var etag = post.GetProperty("etag").GetString();
        var updates = 0;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/UpdatePost", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref updates);
            }
        };
        await page.ReloadAsync();

        // Both days on one screen: the week when they share one, else the month.
        var sameWeek = yesterday.DayOfWeek != DayOfWeek.Sunday;
        var from = sameWeek ? await DayInWeekAsync(page, tomorrow) : await DayInMonthAsync(page, tomorrow);
        var past = page.GetByRole(AriaRole.Region, new() { Name = $"{yesterday:dddd d MMMM}", Exact = true });
        await from.Locator(".chip", new() { HasText = "Market stall" }).DragToAsync(past);

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync($"Not moved: {yesterday:dddd d MMMM} 08:15 is in the past");
        await Assertions.Expect(from).ToContainTextAsync("08:15 Market stall");
        Assert.Equal(0, Volatile.Read(ref updates));
        Assert.Equal(etag, (await GetPostAsync(context, post.GetProperty("id").GetString()!)).GetProperty("etag").GetString());

        // With the keyboard: Alt+Right moves it to the next day, at the same time.
        await from.Locator(".chip", new() { HasText = "Market stall" }).FocusAsync();
        await page.Keyboard.PressAsync("Alt+ArrowRight");
        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"Moved to {tomorrow.AddDays(1):dddd d MMMM} 08:15");
        Assert.Equal(1, Volatile.Read(ref updates));
    }

    [Fact]
    public async Task The_zone_is_the_browsers_until_another_is_picked_and_then_times_read_in_that_zone()
    {
        await using var context = await fixture.NewContextAsync(timeZone: "America/New_York");
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009304");
        var tomorrow = TodayInNewYork.AddDays(1);
        await PostAsync(context, channelId, "Opening hours change", tomorrow.AddHours(10));
        await page.ReloadAsync();

        await Assertions.Expect(page.GetByTestId("time-zone")).ToHaveTextAsync("America/New_York");
        var day = await DayInWeekAsync(page, tomorrow);
        await Assertions.Expect(day).ToContainTextAsync("10:00 Opening hours change");

        await page.GetByLabel("Time zone").SelectOptionAsync("Europe/Paris");
        await Assertions.Expect(page.GetByTestId("time-zone")).ToHaveTextAsync("Europe/Paris");
        // Ten in New York is the afternoon of the same day in Paris.
        var inParis = TimeZoneInfo.ConvertTime(DateTimeOffset.Parse(NewYorkInstant(tomorrow.AddHours(10))), TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"));
        Assert.Equal(tomorrow, inParis.Date);
        await Assertions.Expect(day).ToContainTextAsync($"{inParis:HH:mm} Opening hours change");
        await Assertions.Expect(day).Not.ToContainTextAsync("10:00 Opening hours change");

        // The composer opened from the calendar reads and writes its time in the picked zone.
        await page.GetByRole(AriaRole.Link, new() { Name = "New post" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel(new Regex("^Publish at"))).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Publish at (Europe/Paris)")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Free_queue_slots_and_the_next_occurrences_of_a_recurring_post_are_drawn_on_the_month()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, NewEmail());
        var channelId = await WhatsAppChannelAsync(context, "1065550009305");
        await DailyScheduleAsync(context, channelId, "07:45");
        var tomorrow = TodayInNewYork.AddDays(1);
        await PostAsync(context, channelId, "Daily specials", tomorrow.AddHours(18).AddMinutes(20), rrule: "FREQ=DAILY;COUNT=4");
        await page.ReloadAsync();

        var first = await DayInMonthAsync(page, tomorrow);
        await Assertions.Expect(first).ToContainTextAsync("07:45 queue slot");
        await Assertions.Expect(first).ToContainTextAsync("18:20 Daily specials");
        for (var d = 1; d <= 3; d++)
        {
            var next = page.GetByRole(AriaRole.Region, new() { Name = $"{tomorrow.AddDays(d):dddd d MMMM}", Exact = true });
            await Assertions.Expect(next).ToContainTextAsync("18:20 repeats: Daily specials");
        }
        // COUNT=4: the series ends after its fourth.
        var after = page.GetByRole(AriaRole.Region, new() { Name = $"{tomorrow.AddDays(4):dddd d MMMM}", Exact = true });
        await Assertions.Expect(after).ToContainTextAsync("07:45 queue slot");
        await Assertions.Expect(after).Not.ToContainTextAsync("repeats");
    }
}
