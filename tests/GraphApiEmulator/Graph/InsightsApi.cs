using System.Globalization;
using System.Text.Json.Nodes;
using SocialSync.GraphApiEmulator.Insights;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>
/// Instagram insights: <c>GET /{ig-media-id}/insights?metric=...</c> (lifetime metrics of a published media) and
/// <c>GET /{ig-user-id}/insights?metric=online_followers&amp;period=lifetime</c>, from <see cref="InsightsModel"/>.
/// </summary>
public static class InsightsApi
{
    private const string ImpressionsRetired =
        "(#100) Starting from v22.0 and for all versions on April 21, 2025, the impressions metric is no longer supported for media. Use views instead.";

    public static GraphResponse Get(EmulatorState state, GraphRequest request, string node, DateTimeOffset now) =>
        state.Media.TryGetValue(node, out var media)
            ? MediaInsights(state, request, media, now)
            : UserInsights(state, request, node, now);

    private static GraphResponse MediaInsights(EmulatorState state, GraphRequest request, Media media, DateTimeOffset now)
    {
        var metrics = Metrics(request);
        if (metrics.Length == 0)
        {
            return GraphResponse.Fail(ErrorCatalog.InvalidParameter("(#100) The parameter metric is required.", Product.Instagram));
        }
        foreach (var metric in metrics)
        {
            if (metric == "impressions")
            {
                return GraphResponse.Fail(ErrorCatalog.Create(100, null, Product.Instagram, ImpressionsRetired));
            }
            if (!InsightsModel.MediaMetricNames.Contains(metric))
            {
                return GraphResponse.Fail(ErrorCatalog.Create(100, null, Product.Instagram,
                    $"(#100) metric[0] must be one of the following values: {string.Join(", ", InsightsModel.MediaMetricNames)}"));
            }
        }

        var values = InsightsModel.At(media.Timestamp, InsightsModel.Zone(state.Account(media.Account).TimeZone), now);
        var data = new JsonArray();
        foreach (var metric in metrics)
        {
            data.Add(new JsonObject
            {
                ["name"] = metric,
                ["period"] = "lifetime",
                ["values"] = new JsonArray(new JsonObject { ["value"] = values.Value(metric) }),
                ["title"] = metric,
                ["id"] = $"{media.Id}/insights/{metric}/lifetime",
            });
        }
        return GraphResponse.Ok(new JsonObject { ["data"] = data });
    }

    private static GraphResponse UserInsights(EmulatorState state, GraphRequest request, string account, DateTimeOffset now)
    {
        var metrics = Metrics(request);
        if (metrics is not ["online_followers"])
        {
            return GraphResponse.Fail(ErrorCatalog.Create(100, null, Product.Instagram,
                "(#100) metric[0] must be one of the following values: online_followers"));
        }
        if (request.Str("period") is not "lifetime")
        {
            return GraphResponse.Fail(ErrorCatalog.Create(100, null, Product.Instagram,
                "(#100) The metric online_followers requires period=lifetime"));
        }

        var byHour = new JsonObject();
        foreach (var (hour, value) in InsightsModel.OnlineFollowersByUtcHour(InsightsModel.Zone(state.Account(account).TimeZone), now))
        {
            byHour[hour.ToString(CultureInfo.InvariantCulture)] = value;
        }
        return GraphResponse.Ok(new JsonObject
        {
            ["data"] = new JsonArray(new JsonObject
            {
                ["name"] = "online_followers",
                ["period"] = "lifetime",
                ["values"] = new JsonArray(new JsonObject
                {
                    ["value"] = byHour,
                    ["end_time"] = now.UtcDateTime.Date.ToString("yyyy-MM-dd'T'HH:mm:ss'+0000'", CultureInfo.InvariantCulture),
                }),
                ["title"] = "Online followers",
                ["id"] = $"{account}/insights/online_followers/lifetime",
            }),
        });
    }

    private static string[] Metrics(GraphRequest request) =>
        (request.Str("metric") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
