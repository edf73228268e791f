using System.Globalization;
using SocialSync.GraphApiEmulator.Control;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Insights;

/// <summary>The control API of insights: the model's answers, and moving a published media in time.</summary>
public static class InsightsEndpoints
{
    public static RouteGroupBuilder MapInsightsControl(this RouteGroupBuilder emu)
    {
        // The model for an account (its time zone): every weekday × hour slot's final metrics, and online_followers.
        emu.MapGet("/insights/model", (string? account, EmulatorState state) =>
        {
            var zone = InsightsModel.Zone(account is null ? null : state.FindAccount(account)?.TimeZone);
            var slots = Enum.GetValues<DayOfWeek>()
                .SelectMany(day => Enumerable.Range(0, 24).Select(hour => (day, hour, metrics: InsightsModel.Final(day, hour))))
                .Select(s => new
                {
                    weekday = s.day.ToString(),
                    hour = s.hour,
                    reach = s.metrics.Reach,
                    total_interactions = s.metrics.TotalInteractions,
                    engagement_rate = s.metrics.EngagementRate,
                })
                .ToList();
            return Results.Json(new
            {
                time_zone = zone.Id,
                slots,
                online_followers_by_local_hour = Enumerable.Range(0, 24).Select(InsightsModel.OnlineFollowers).ToArray(),
            }, ControlEndpoints.Json);
        });

        // Moves a published media's publish time (and so its modelled engagement), for a history across the week.
        emu.MapPut("/published-media/{id}", async (string id, HttpRequest request, EmulatorState state) =>
        {
            var body = await Lenient.ReadBodyAsync(request);
            if (!state.Media.TryGetValue(id, out var media))
            {
                return Results.Json(new { error = $"no media {id}" }, ControlEndpoints.Json, statusCode: 404);
            }
            if (!DateTimeOffset.TryParse(Lenient.Str(body, "timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
            {
                throw new ControlException("timestamp must be an ISO-8601 time");
            }
            media.Timestamp = timestamp;
            return Results.Json(new { id = media.Id, account = media.Account, timestamp = media.Timestamp }, ControlEndpoints.Json);
        });
        return emu;
    }
}
