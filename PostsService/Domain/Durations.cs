namespace SocialSync.PostsService.Domain;

public static class Durations
{
    /// <summary>A span as "1d 02h 03m" (or "45s"), for messages people read.</summary>
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
