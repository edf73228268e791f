using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// When a channel's access token expires: as Meta's token answer said (expires_in, passed on by the client), else what
/// Meta documents for the platform: Instagram tokens are long-lived ones (60 days), WhatsApp system-user tokens
/// usually do not expire.
/// </summary>
public static class TokenLifetime
{
    /// <summary>Meta's long-lived token lifetime.</summary>
    public static readonly TimeSpan LongLived = TimeSpan.FromDays(60);

    /// <summary>The longest expires_in taken: beyond it a token is as good as non-expiring, and a typo more likely.</summary>
    public static readonly TimeSpan MaxExpiresIn = TimeSpan.FromDays(3650);

    public static void Check(long expiresInSeconds, string field, FieldViolations violations)
    {
        if (expiresInSeconds < 0 || expiresInSeconds > MaxExpiresIn.TotalSeconds)
        {
            violations.Add(field, $"must be between 0 (not known) and {MaxExpiresIn.TotalSeconds:0} seconds");
        }
    }

    /// <summary>The expiry of a token connected at <paramref name="now"/>; null when it does not expire.</summary>
    public static DateTimeOffset? ExpiryOf(Platform platform, long expiresInSeconds, DateTimeOffset now) =>
        expiresInSeconds > 0 ? now.AddSeconds(expiresInSeconds)
        : platform == Platform.Instagram ? now + LongLived
        : null;
}
