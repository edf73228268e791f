using System.Text.Json;
using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>
/// What the calendar and composer tests set up over the gateway's REST routes as the signed-in user (channels,
/// posts, schedules, templates), and how they reach a day on the calendar. Times are New York's, the zone the test
/// browsers run in.
/// </summary>
internal static class PlanningSteps
{
    public static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    public static DateTime TodayInNewYork => TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, NewYork).Date;

    /// <summary>A wall-clock time in New York as the instant the API is sent, in UTC.</summary>
    public static string NewYorkInstant(DateTime local) =>
        new DateTimeOffset(local, NewYork.GetUtcOffset(local)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    public static async Task<string> WhatsAppChannelAsync(IBrowserContext context, string accountId) =>
        (await StudioSession.PostAsync(context, "/api/channels", new
        {
            platform = "whatsapp",
            account_id = accountId,
            access_token = "EAAG-planning",
            settings = new { recipients = new[] { "+16505550111" } },
        })).GetProperty("id").GetString()!;

    public static async Task<JsonElement> PostAsync(IBrowserContext context, string channelId, string text, DateTime newYorkTime, string rrule = "") =>
        await StudioSession.PostAsync(context, "/api/posts", new
        {
            channel_id = channelId,
            content = new { text },
            publish_at = NewYorkInstant(newYorkTime),
            time_zone = "America/New_York",
            rrule,
            request_id = Guid.NewGuid().ToString(),
        });

    public static async Task<JsonElement> GetPostAsync(IBrowserContext context, string id)
    {
        var response = await context.APIRequest.GetAsync($"/api/posts/{id}");
        Assert.True(response.Ok, $"GET post {id}: {response.Status}");
        return JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
    }

    /// <summary>A posting schedule of one time every day of the week, in New York.</summary>
    public static async Task DailyScheduleAsync(IBrowserContext context, string channelId, string timeOfDay)
    {
        var response = await context.APIRequest.PutAsync($"/api/channels/{channelId}/schedule", new()
        {
            Headers = new Dictionary<string, string> { ["X-CSRF"] = "1" },
            DataObject = new
            {
                channel_id = channelId,
                time_zone = "America/New_York",
                slots = Enumerable.Range(1, 7).Select(weekday => new { weekday, time_of_day = timeOfDay }).ToArray(),
            },
        });
        Assert.True(response.Ok, $"PUT schedule: {response.Status} {await response.TextAsync()}");
    }

    private static DateTime StartOfWeek(DateTime day) => day.Date.AddDays(-(((int)day.DayOfWeek + 6) % 7));

    /// <summary>The week view's region of a day from today on: the calendar opens on this week and goes forward a week at a time.</summary>
    public static async Task<ILocator> DayInWeekAsync(IPage page, DateTime day)
    {
        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync();
        var weeks = (StartOfWeek(day) - StartOfWeek(TodayInNewYork)).Days / 7;
        for (var w = 1; w <= weeks; w++)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next week" }).ClickAsync();
            await Assertions.Expect(page.GetByText($"Week of {StartOfWeek(TodayInNewYork).AddDays(7 * w):d MMMM yyyy}")).ToBeVisibleAsync();
        }
        return page.GetByRole(AriaRole.Region, new() { Name = $"{day:dddd d MMMM}", Exact = true });
    }

    /// <summary>The month view's region of a day in this month's grid (six weeks from the Monday before the 1st).</summary>
    public static async Task<ILocator> DayInMonthAsync(IPage page, DateTime day)
    {
        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Month view" }).ClickAsync();
        await Assertions.Expect(page.GetByText($"{TodayInNewYork:MMMM yyyy} · times in")).ToBeVisibleAsync();
        return page.GetByRole(AriaRole.Region, new() { Name = $"{day:dddd d MMMM}", Exact = true });
    }
}
