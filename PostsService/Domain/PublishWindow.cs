namespace SocialSync.PostsService.Domain;

/// <summary>When a post may be scheduled: not in the past (beyond a small clock tolerance), at most two years ahead.</summary>
public static class PublishWindow
{
    /// <summary>How far in the past a publish_at is still accepted, for clocks and requests a little behind.</summary>
    public static readonly TimeSpan PastTolerance = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan FarthestFuture = TimeSpan.FromDays(2 * 366);

    public static bool IsPast(DateTimeOffset publishAt, DateTimeOffset now) => publishAt < now - PastTolerance;

    /// <summary>Adds a violation of <paramref name="field"/> when <paramref name="publishAt"/> is outside the window.</summary>
    public static void Check(DateTimeOffset? publishAt, DateTimeOffset now, string field, FieldViolations violations)
    {
        if (publishAt is { } at && IsPast(at, now))
        {
            violations.Add(field, "must be in the future");
        }
        else if (publishAt is { } far && far > now + FarthestFuture)
        {
            violations.Add(field, "must be within two years");
        }
    }
}
