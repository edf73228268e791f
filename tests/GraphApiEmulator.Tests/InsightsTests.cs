using System.Net;
using SocialSync.GraphApiEmulator.Insights;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class InsightsTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private const string AllMetrics = "reach,likes,comments,shares,saved,total_interactions,views";
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public void The_model_gives_every_weekday_and_hour_its_own_engagement_rate_and_peaks_on_wednesday_at_19()
    {
        var slots = Enum.GetValues<DayOfWeek>().SelectMany(day => Enumerable.Range(0, 24).Select(hour => (day, hour))).ToList();
        var rates = slots.Select(s => InsightsModel.Final(s.day, s.hour).EngagementRate).ToList();
        Assert.Equal(168, rates.Distinct().Count());
        var best = slots.MaxBy(s => InsightsModel.Final(s.day, s.hour).EngagementRate);
        Assert.Equal((DayOfWeek.Wednesday, 19), best);
        Assert.Equal(19, Enumerable.Range(0, 24).MaxBy(InsightsModel.OnlineFollowers));
    }

    [Fact]
    public async Task Media_insights_follow_the_model_for_the_hour_and_weekday_the_media_was_published_in_the_account_zone()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { timeZone = "Europe/Berlin" });
        var mediaId = await PublishAsync(account);
        // Wednesday 2026-11-04 18:00 UTC is 19:00 in Berlin; a week old, so the lifetime values are final.
        var publishedAt = new DateTimeOffset(2026, 11, 4, 18, 0, 0, TimeSpan.Zero);
        await http.ControlAsync(HttpMethod.Put, $"/__emu/published-media/{mediaId}", new { timestamp = publishedAt.ToString("O") });

        var insights = await http.GetGraphAsync($"/v23.0/{mediaId}/insights?metric={AllMetrics}");

        Assert.Equal(HttpStatusCode.OK, insights.Status);
        var expected = InsightsModel.Final(DayOfWeek.Wednesday, 19);
        var data = insights.Json!["data"]!.AsArray();
        Assert.Equal(AllMetrics.Split(','), data.Select(d => d!["name"]!.GetValue<string>()));
        foreach (var entry in data)
        {
            var name = entry!["name"]!.GetValue<string>();
            Assert.Equal("lifetime", entry["period"]!.GetValue<string>());
            Assert.Equal(expected.Value(name), entry["values"]![0]!["value"]!.GetValue<long>());
            Assert.Equal($"{mediaId}/insights/{name}/lifetime", entry["id"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_fresh_media_has_grown_only_part_of_its_final_engagement()
    {
        var account = Ids.Next();
        var mediaId = await PublishAsync(account);

        var insights = await http.GetGraphAsync($"/v23.0/{mediaId}/insights?metric=reach");

        var now = emulator.Host.Clock.GetUtcNow();
        var reach = insights.Json!["data"]![0]!["values"]![0]!["value"]!.GetValue<long>();
        Assert.InRange(reach, 1, InsightsModel.Final(now.DayOfWeek, now.Hour).Reach / 10);
    }

    [Fact]
    public async Task Impressions_are_refused_with_error_100_as_Meta_retired_them()
    {
        var mediaId = await PublishAsync(Ids.Next());

        var insights = await http.GetGraphAsync($"/v23.0/{mediaId}/insights?metric=reach,impressions");

        Assert.Equal(HttpStatusCode.BadRequest, insights.Status);
        Assert.Equal(100, insights.Code);
        Assert.Contains("impressions", insights.Error!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Online_followers_are_served_per_UTC_hour_from_the_account_local_model()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { timeZone = "Asia/Kolkata" }); // UTC+05:30: local hour = UTC hour + 5

        var insights = await http.GetGraphAsync($"/v23.0/{account}/insights?metric=online_followers&period=lifetime");

        Assert.Equal(HttpStatusCode.OK, insights.Status);
        var byHour = insights.Json!["data"]![0]!["values"]![0]!["value"]!.AsObject();
        Assert.Equal(24, byHour.Count);
        for (var utc = 0; utc < 24; utc++)
        {
            Assert.Equal(InsightsModel.OnlineFollowers((utc + 5) % 24), byHour[utc.ToString(System.Globalization.CultureInfo.InvariantCulture)]!.GetValue<int>());
        }
        var noPeriod = await http.GetGraphAsync($"/v23.0/{account}/insights?metric=online_followers");
        Assert.Equal(100, noPeriod.Code);
    }

    private async Task<string> PublishAsync(string account)
    {
        var container = await http.CreateImageContainerAsync(account);
        var published = await http.PublishAsync(account, container);
        return published.Json!["id"]!.GetValue<string>();
    }
}
