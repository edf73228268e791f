using Ical.Net;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Evaluation;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// Time zones and RFC 5545 recurrence. A recurring post is a series of posts: each occurrence is its own row, and
/// the next one is created (queued) in the same transaction that finishes the current one (Data/SeriesStatements).
/// The rule is evaluated in the post's IANA time zone (UTC when none), so "every day at 09:00 Europe/Paris" stays
/// at 09:00 across DST.
/// </summary>
public static class Recurrence
{
    public const int MaxRuleLength = 512;
    public const int MaxTimeZoneLength = 64;
    public const string DefaultTimeZone = "UTC";

    // Stops rules that can never match (e.g. February 30th) from spinning.
    private static readonly EvaluationOptions Limits = new() { MaxUnmatchedIncrementsLimit = 5_000 };

    /// <summary>The canonical IANA id of <paramref name="value"/>; null when empty or invalid (then a violation).</summary>
    public static string? NormalizeTimeZone(string value, string field, FieldViolations violations)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (value.Length <= MaxTimeZoneLength && TimeZoneInfo.TryFindSystemTimeZoneById(value, out var zone) && zone.HasIanaId)
        {
            return zone.Id;
        }
        // The zone files' names are case-sensitive; accept "europe/paris" by the canonical list's spelling.
        var canonical = TimeZoneInfo.GetSystemTimeZones().FirstOrDefault(z => z.HasIanaId && string.Equals(z.Id, value, StringComparison.OrdinalIgnoreCase));
        if (canonical is not null)
        {
            return canonical.Id;
        }
        violations.Add(field, "must be an IANA time zone such as Europe/Paris or America/New_York");
        return null;
    }

    /// <summary>The rule without an "RRULE:" prefix, upper-cased; null when empty or invalid (then a violation).</summary>
    public static string? NormalizeRule(string value, string field, FieldViolations violations)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var rule = value.Trim().ToUpperInvariant();
        if (rule.StartsWith("RRULE:", StringComparison.Ordinal))
        {
            rule = rule["RRULE:".Length..];
        }
        if (rule.Length > MaxRuleLength)
        {
            violations.Add(field, $"must be at most {MaxRuleLength} characters");
            return null;
        }
        if (!rule.Split(';').Any(part => part.StartsWith("FREQ=", StringComparison.Ordinal)))
        {
            violations.Add(field, "must be an RFC 5545 recurrence rule with a FREQ, e.g. FREQ=WEEKLY;BYDAY=MO");
            return null;
        }
        RecurrenceRule parsed;
        try
        {
            parsed = new RecurrenceRule(rule);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException or OverflowException)
        {
            violations.Add(field, "is not a valid RFC 5545 recurrence rule: " + ex.Message.Split(" (Parameter", 2)[0]);
            return null;
        }
        if (parsed.Frequency is FrequencyType.Secondly or FrequencyType.Minutely)
        {
            violations.Add(field, "must recur at most hourly");
            return null;
        }
        return rule;
    }

    /// <summary>Adds a violation when <paramref name="rule"/> can never produce an occurrence after the first.</summary>
    public static void CheckEvaluates(string rule, string? timeZone, DateTimeOffset publishAt, string field, FieldViolations violations)
    {
        try
        {
            _ = Evaluate(rule, timeZone, publishAt, publishAt);
        }
        catch (EvaluationLimitExceededException)
        {
            violations.Add(field, "never produces an occurrence");
        }
    }

    /// <summary>
    /// The first occurrence of the series anchored at <paramref name="anchor"/> strictly after <paramref name="after"/>,
    /// or null when the series has ended (COUNT, UNTIL) or cannot be evaluated.
    /// </summary>
    public static DateTimeOffset? NextOccurrence(string rule, string? timeZone, DateTimeOffset anchor, DateTimeOffset after)
    {
        try
        {
            return Evaluate(rule, timeZone, anchor, after);
        }
        catch (Exception ex) when (ex is EvaluationLimitExceededException or ArgumentException or FormatException or TimeZoneNotFoundException)
        {
            return null;
        }
    }

    private static DateTimeOffset? Evaluate(string rule, string? timeZone, DateTimeOffset anchor, DateTimeOffset after)
    {
        var zoneId = timeZone ?? DefaultTimeZone;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        // Ical.Net works in whole seconds; the anchor's fraction is added back so occurrences keep its exact time.
        var fraction = TimeSpan.FromTicks(anchor.Ticks % TimeSpan.TicksPerSecond);
        var local = TimeZoneInfo.ConvertTime(anchor, zone);
        var series = new CalendarEvent
        {
            DtStart = new CalDateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, local.Second, zoneId),
            RecurrenceRule = new RecurrenceRule(rule),
        };
        var from = TimeZoneInfo.ConvertTime(after - fraction, zone);
        var start = new CalDateTime(from.Year, from.Month, from.Day, from.Hour, from.Minute, from.Second, zoneId);
        foreach (var occurrence in series.GetOccurrences(start, Limits))
        {
            var at = new DateTimeOffset(occurrence.Period.StartTime.AsUtc, TimeSpan.Zero) + fraction;
            if (at > after)
            {
                return at;
            }
        }
        return null;
    }
}
