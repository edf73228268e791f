namespace SocialSync.PostsService.Domain;

/// <summary>Durations in messages people read.</summary>
public static class DurationText
{
    /// <summary>A span as "1d 02h 03m" (or "45s").</summary>
    public static string Describe(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return $"{(int)span.TotalSeconds}s";
        }
        var text = span.Days > 0 ? $"{span.Days}d {span.Hours:D2}h" : $"{span.Hours}h";
        return span.Minutes > 0 || span.Seconds > 0 ? $"{text} {span.Minutes:D2}m" : text;
    }
}
