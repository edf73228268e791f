using System.Globalization;

namespace SocialSync.PostsService.Domain;

/// <summary>One weekly time of a posting schedule: a weekday and a wall-clock time in the schedule's zone.</summary>
public readonly record struct WeeklySlot(DayOfWeek Day, TimeOnly Time)
{
    /// <summary>The stored form, "&lt;ISO weekday&gt; HH:MM" (Monday = 1), which also sorts a week's slots in order.</summary>
    public string ToDb() => $"{IsoWeekday(Day)} {Time:HH\\:mm}";

    public static WeeklySlot FromDb(string value) =>
        new(FromIsoWeekday(value[0] - '0'), TimeOnly.ParseExact(value[2..], "HH:mm", CultureInfo.InvariantCulture));

    public static int IsoWeekday(DayOfWeek day) => day == DayOfWeek.Sunday ? 7 : (int)day;

    public static DayOfWeek FromIsoWeekday(int weekday) => weekday == 7 ? DayOfWeek.Sunday : (DayOfWeek)weekday;
}

/// <summary>
/// A channel's weekly posting schedule and the instants its slots fall on. The times are wall-clock times in the
/// schedule's IANA zone, so a 09:00 slot stays at 09:00 across DST. Two days a year a wall-clock time does not map to
/// one instant, and the rule is RFC 5545's (which the recurring posts follow too, through Ical.Net):
/// <list type="bullet">
/// <item>a time skipped by a spring-forward change (02:30 in Paris on the last Sunday of March) moves forward by the
/// length of the gap (to 03:30 local); if the schedule already has that time, the two are one slot;</item>
/// <item>a time that occurs twice on a fall-back day (01:30 in New York on the first Sunday of November) is a slot
/// once, at its first occurrence (the daylight-time one).</item>
/// </list>
/// </summary>
public sealed record PostingSlots(TimeZoneInfo Zone, IReadOnlyList<WeeklySlot> Slots)
{
    public const int MaxSlots = 100;

    /// <summary>The slots' instants at or after <paramref name="from"/>, in time order (none when the schedule is empty).</summary>
    public IEnumerable<DateTimeOffset> From(DateTimeOffset from)
    {
        if (Slots.Count == 0)
        {
            yield break;
        }
        var byDay = Slots.GroupBy(s => s.Day).ToDictionary(g => g.Key, g => g.Select(s => s.Time).Distinct().Order().ToList());
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(from, Zone).DateTime).AddDays(-1);
        DateTimeOffset? last = null;
        // Two years of days at most: a slot further out is beyond any post's publish window.
        for (var i = 0; i < 2 * 366 + 2; i++, day = day.AddDays(1))
        {
            if (!byDay.TryGetValue(day.DayOfWeek, out var times))
            {
                continue;
            }
            foreach (var time in times)
            {
                var at = ToInstant(day.ToDateTime(time));
                if (at >= from && (last is null || at > last))
                {
                    last = at;
                    yield return at;
                }
            }
        }
    }

    /// <summary>The instant of a wall-clock time in <see cref="Zone"/>, by the DST rule above.</summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        if (Zone.IsInvalidTime(local))
        {
            // In the gap: read the time with the offset in force before it, which moves it forward by the gap.
            var before = Zone.GetUtcOffset(local.AddHours(-12));
            return new DateTimeOffset(local - before, TimeSpan.Zero);
        }
        var offset = Zone.IsAmbiguousTime(local) ? Zone.GetAmbiguousTimeOffsets(local).Max() : Zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset).ToUniversalTime();
    }

    /// <summary>Parses the API's weekly times; each bad one is named as <c>{field}[i]</c>.</summary>
    public static List<WeeklySlot> Parse(IReadOnlyList<(int Weekday, string TimeOfDay)> slots, string field, FieldViolations violations)
    {
        if (slots.Count is 0 or > MaxSlots)
        {
            violations.Add(field, $"must hold 1 to {MaxSlots} weekly times");
        }
        var parsed = new List<WeeklySlot>(slots.Count);
        for (var i = 0; i < slots.Count; i++)
        {
            var (weekday, timeOfDay) = slots[i];
            if (weekday is < 1 or > 7)
            {
                violations.Add($"{field}[{i}].weekday", "must be an ISO weekday, 1 (Monday) to 7 (Sunday)");
                continue;
            }
            if (!TimeOnly.TryParseExact(timeOfDay, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time))
            {
                violations.Add($"{field}[{i}].time_of_day", "must be a 24-hour time HH:MM, e.g. 09:30");
                continue;
            }
            parsed.Add(new WeeklySlot(WeeklySlot.FromIsoWeekday(weekday), time));
        }
        return parsed.Distinct().OrderBy(s => s.ToDb(), StringComparer.Ordinal).ToList();
    }
}
