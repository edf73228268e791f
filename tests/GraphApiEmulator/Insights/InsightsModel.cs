namespace SocialSync.GraphApiEmulator.Insights;

/// <summary>A media's lifetime metrics, as <c>GET /{ig-media-id}/insights</c> reports them.</summary>
public sealed record MediaMetrics(long Reach, long Likes, long Comments, long Shares, long Saved, long TotalInteractions, long Views)
{
    /// <summary>The engagement rate SocialSync's suggestions rank by: total interactions per account reached.</summary>
    public double EngagementRate => Reach == 0 ? 0 : (double)TotalInteractions / Reach;

    public long Value(string metric) => metric switch
    {
        "reach" => Reach,
        "likes" => Likes,
        "comments" => Comments,
        "shares" => Shares,
        "saved" => Saved,
        "total_interactions" => TotalInteractions,
        "views" => Views,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Not a media metric."),
    };
}

/// <summary>
/// The emulator's deterministic model of Instagram engagement, a pure function tests call too (or read from
/// <c>GET /__emu/insights/model</c>): a media's metrics depend only on the weekday and hour it was published, in the
/// account's time zone (UTC unless set with <c>PUT /__emu/accounts/{id} {"timeZone"}</c>), and on its age.
/// <para>
/// The grid: an engagement rate in parts per million = <see cref="HourWeight"/>[hour] × <see cref="DayPercent"/>[weekday]
/// × 2 plus the slot's index (weekday × 24 + hour), so no two slots are equal. Peaks: 18:00–20:00 (19:00 the best),
/// then 12:00–13:00; Wednesday is the best day, then Thursday and Tuesday; Sunday the worst. Reach is 5 000 + 50 × hour
/// + 7 × weekday; total interactions are the rate times the reach (rounded down), split 60 % likes, 15 % comments,
/// 10 % shares and the rest saves; views are 1.5 × reach. Lifetime values grow linearly over the first 48 hours
/// ((age + 1 h) / 48 h of the final values), then stay.
/// </para>
/// </summary>
public static class InsightsModel
{
    /// <summary>The media metrics Meta serves since 2025 (impressions is retired: asking for it is error #100).</summary>
    public static readonly string[] MediaMetricNames = ["reach", "likes", "comments", "shares", "saved", "total_interactions", "views"];

    public static readonly TimeSpan GrowthPeriod = TimeSpan.FromHours(48);

    /// <summary>Relative audience activity by local hour 0–23.</summary>
    public static readonly int[] HourWeight =
        [60, 50, 40, 40, 40, 60, 100, 180, 240, 260, 280, 320, 380, 360, 280, 240, 260, 300, 420, 460, 400, 300, 180, 100];

    /// <summary>Weekday factor in percent, indexed by <see cref="DayOfWeek"/> (Sunday first).</summary>
    public static readonly int[] DayPercent = [70, 100, 110, 130, 120, 90, 80];

    public static int RatePartsPerMillion(DayOfWeek day, int hour) =>
        HourWeight[hour] * DayPercent[(int)day] * 2 + (int)day * 24 + hour;

    /// <summary>The final (48 hours and older) metrics of a media published at local <paramref name="day"/> and <paramref name="hour"/>.</summary>
    public static MediaMetrics Final(DayOfWeek day, int hour)
    {
        long reach = 5_000 + 50 * hour + 7 * (int)day;
        var total = reach * RatePartsPerMillion(day, hour) / 1_000_000;
        long likes = total * 60 / 100, comments = total * 15 / 100, shares = total * 10 / 100;
        return new MediaMetrics(reach, likes, comments, shares, total - likes - comments - shares, total, reach * 3 / 2);
    }

    /// <summary>The metrics of a media published at <paramref name="publishedAt"/> in <paramref name="zone"/>, read at <paramref name="now"/>.</summary>
    public static MediaMetrics At(DateTimeOffset publishedAt, TimeZoneInfo zone, DateTimeOffset now)
    {
        var local = TimeZoneInfo.ConvertTime(publishedAt, zone);
        var final = Final(local.DayOfWeek, local.Hour);
        var age = now - publishedAt;
        if (age >= GrowthPeriod - TimeSpan.FromHours(1))
        {
            return final;
        }
        var share = Math.Max(0, (age + TimeSpan.FromHours(1)).Ticks) / (double)GrowthPeriod.Ticks;
        long Part(long value) => (long)Math.Floor(value * share);
        var (likes, comments, shares, saved) = (Part(final.Likes), Part(final.Comments), Part(final.Shares), Part(final.Saved));
        return new MediaMetrics(Part(final.Reach), likes, comments, shares, saved, likes + comments + shares + saved, Part(final.Views));
    }

    /// <summary>Followers online by local hour 0–23: the hour's audience weight × 10 + the hour (no two equal; 19:00 the peak).</summary>
    public static int OnlineFollowers(int localHour) => HourWeight[localHour] * 10 + localHour;

    /// <summary>
    /// <c>online_followers</c> as served: keyed by UTC hour 0–23, each the followers online in the account-local hour
    /// it falls in (the zone's offset at <paramref name="now"/>).
    /// </summary>
    public static IReadOnlyDictionary<int, int> OnlineFollowersByUtcHour(TimeZoneInfo zone, DateTimeOffset now)
    {
        var offsetHours = (int)Math.Floor(zone.GetUtcOffset(now).TotalHours);
        return Enumerable.Range(0, 24).ToDictionary(utc => utc, utc => OnlineFollowers(((utc + offsetHours) % 24 + 24) % 24));
    }

    /// <summary>The zone named (IANA), UTC when none or unknown.</summary>
    public static TimeZoneInfo Zone(string? id) =>
        !string.IsNullOrEmpty(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;
}
