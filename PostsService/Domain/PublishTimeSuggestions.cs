using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>One published post's engagement rate (Instagram total_interactions / reach, WhatsApp read rate) and when it went out.</summary>
public readonly record struct EngagementSample(DateTimeOffset PublishedAt, double Rate);

/// <summary>What the suggestions of a channel are made from, all read in one transaction.</summary>
public sealed record SuggestionInputs(
    TimeZoneInfo Zone,
    IReadOnlyList<EngagementSample> History,
    IReadOnlyList<DateTimeOffset> ScheduledPublishTimes,
    IReadOnlyList<long>? OnlineFollowersByUtcHour,
    PostingSlots? Schedule);

/// <summary>A suggested hour: when it starts, its weekday and hour in the zone, its score and the posts behind it.</summary>
public sealed record SuggestedHour(DateTimeOffset Start, DayOfWeek Day, int Hour, double Score, int SampleSize);

public sealed record Suggestions(SuggestionSource Source, IReadOnlyList<SuggestedHour> Slots, double MeanRate, int PostsMeasured);

/// <summary>
/// The best free hours of the coming week for a channel (docs/insights.md, "Best times"), a pure function of its
/// history. Each past post is filed under the weekday and hour it went out, in the channel's zone; a slot's rate is
/// shrunk toward the channel's mean by empirical Bayes, (sum of rates + k × mean) / (posts + k) with k =
/// <see cref="PriorWeight"/>, so one lucky post does not outrank a slot many posts vouch for, and a slot without posts
/// scores the mean. "Free": no post of the channel is scheduled in that hour. With fewer than
/// <see cref="MinimumHistory"/> measured posts the history says too little, and the fallbacks follow in order: the
/// hours most followers are online (Instagram), the posting schedule's slots, nothing.
/// </summary>
public static class PublishTimeSuggestions
{
    /// <summary>k: how many posts' worth of weight the channel's mean carries in every slot.</summary>
    public const double PriorWeight = 2;

    /// <summary>Measured posts below which the history is not used.</summary>
    public const int MinimumHistory = 10;

    public const int DefaultCount = 3;
    public const int MaxCount = 24;

    public static Suggestions Suggest(SuggestionInputs inputs, DateTimeOffset now, int count)
    {
        var candidates = FreeHoursOfTheComingWeek(inputs, now);
        if (inputs.History.Count >= MinimumHistory)
        {
            return FromHistory(inputs, candidates, count);
        }
        if (inputs.OnlineFollowersByUtcHour is { Count: 24 } online)
        {
            var slots = candidates
                .Select(c => c with { Score = online[c.Start.UtcDateTime.Hour] })
                .OrderByDescending(c => c.Score).ThenBy(c => c.Start)
                .Take(count).ToList();
            return new Suggestions(SuggestionSource.OnlineFollowers, slots, 0, inputs.History.Count);
        }
        if (inputs.Schedule is { Slots.Count: > 0 } schedule)
        {
            var free = candidates.Select(c => c.Start).ToHashSet();
            var slots = schedule.From(now.AddTicks(1)).TakeWhile(at => at < now.AddDays(7))
                .Where(at => free.Contains(HourStart(at, inputs.Zone)))
                .Take(count)
                .Select(at => Local(at, inputs.Zone))
                .ToList();
            return new Suggestions(SuggestionSource.PostingSchedule, slots, 0, inputs.History.Count);
        }
        return new Suggestions(SuggestionSource.None, [], 0, inputs.History.Count);
    }

    private static Suggestions FromHistory(SuggestionInputs inputs, List<SuggestedHour> candidates, int count)
    {
        var mean = inputs.History.Average(s => s.Rate);
        var grid = inputs.History
            .GroupBy(s => { var local = TimeZoneInfo.ConvertTime(s.PublishedAt, inputs.Zone); return (local.DayOfWeek, local.Hour); })
            .ToDictionary(g => g.Key, g => (Sum: g.Sum(s => s.Rate), Count: g.Count()));
        var slots = candidates
            .Select(c =>
            {
                var (sum, n) = grid.GetValueOrDefault((c.Day, c.Hour));
                return c with { Score = (sum + PriorWeight * mean) / (n + PriorWeight), SampleSize = n };
            })
            .OrderByDescending(c => c.Score).ThenByDescending(c => c.SampleSize).ThenBy(c => c.Start)
            .Take(count).ToList();
        return new Suggestions(SuggestionSource.History, slots, mean, inputs.History.Count);
    }

    /// <summary>The 168 local hours after now's (those a DST change skips left out) without a scheduled post of the channel.</summary>
    private static List<SuggestedHour> FreeHoursOfTheComingWeek(SuggestionInputs inputs, DateTimeOffset now)
    {
        var zone = inputs.Zone;
        var local = TimeZoneInfo.ConvertTime(now, zone).DateTime;
        var first = new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0, DateTimeKind.Unspecified).AddHours(1);
        var hours = new List<SuggestedHour>(168);
        for (var i = 0; i < 168; i++)
        {
            var wall = first.AddHours(i);
            if (zone.IsInvalidTime(wall))
            {
                continue;
            }
            var offset = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall).Max() : zone.GetUtcOffset(wall);
            var start = new DateTimeOffset(wall, offset).ToUniversalTime();
            if (!inputs.ScheduledPublishTimes.Any(at => at >= start && at < start.AddHours(1)))
            {
                hours.Add(new SuggestedHour(start, wall.DayOfWeek, wall.Hour, 0, 0));
            }
        }
        return hours;
    }

    private static DateTimeOffset HourStart(DateTimeOffset at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        return new DateTimeOffset(local.Year, local.Month, local.Day, local.Hour, 0, 0, local.Offset).ToUniversalTime();
    }

    private static SuggestedHour Local(DateTimeOffset at, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(at, zone);
        return new SuggestedHour(at, local.DayOfWeek, local.Hour, 0, 0);
    }
}
