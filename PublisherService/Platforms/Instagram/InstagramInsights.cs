using System.Globalization;
using System.Text.Json;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>A media's lifetime metrics and when Meta says it was published.</summary>
public sealed record MediaInsights(DateTimeOffset? PublishedAt, IReadOnlyDictionary<string, long> Metrics);

/// <summary>
/// Instagram insights through the Graph API: a media's lifetime metrics (<see cref="MediaMetrics"/>; Meta retired
/// <c>impressions</c> in 2025) and an account's followers online per hour. Reads only: a failure is a
/// <see cref="GraphApiException"/> classified like any other Meta error.
/// </summary>
public sealed class InstagramInsights(GraphApiClient graph)
{
    public static readonly string[] MediaMetrics = ["reach", "likes", "comments", "shares", "saved", "total_interactions", "views"];

    public async Task<MediaInsights> MediaAsync(string mediaId, string accessToken, CancellationToken cancellationToken)
    {
        var media = await graph.GetAsync($"{mediaId}?fields=timestamp", accessToken, cancellationToken);
        var insights = await graph.GetAsync($"{mediaId}/insights?metric={string.Join(',', MediaMetrics)}", accessToken, cancellationToken);
        var metrics = new Dictionary<string, long>();
        foreach (var entry in Data(insights))
        {
            if (entry.TryGetProperty("name", out var name) && FirstValue(entry) is { ValueKind: JsonValueKind.Number } value)
            {
                metrics[name.GetString()!] = value.GetInt64();
            }
        }
        var publishedAt = media.TryGetProperty("timestamp", out var timestamp) ? ParseTimestamp(timestamp.GetString()) : null;
        return new MediaInsights(publishedAt, metrics);
    }

    /// <summary>Followers online per UTC hour (index = hour); hours Meta leaves out count 0.</summary>
    public async Task<long[]> OnlineFollowersAsync(string accountId, string accessToken, CancellationToken cancellationToken)
    {
        var insights = await graph.GetAsync($"{accountId}/insights?metric=online_followers&period=lifetime", accessToken, cancellationToken);
        var byHour = new long[24];
        foreach (var entry in Data(insights))
        {
            if (FirstValue(entry) is { ValueKind: JsonValueKind.Object } hours)
            {
                foreach (var hour in hours.EnumerateObject())
                {
                    if (int.TryParse(hour.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var h) && h is >= 0 and < 24
                        && hour.Value.ValueKind == JsonValueKind.Number)
                    {
                        byHour[h] = hour.Value.GetInt64();
                    }
                }
            }
        }
        return byHour;
    }

    private static IEnumerable<JsonElement> Data(JsonElement response) =>
        response.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray() : [];

    private static JsonElement? FirstValue(JsonElement entry) =>
        entry.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
            && values[0].TryGetProperty("value", out var value) ? value : null;

    /// <summary>Meta writes times as 2026-11-04T18:00:00+0000 (no colon in the offset).</summary>
    internal static DateTimeOffset? ParseTimestamp(string? text)
    {
        if (text is { Length: > 5 } && text[^5] is '+' or '-' && text[^3] != ':')
        {
            text = text[..^2] + ":" + text[^2..];
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
    }
}
