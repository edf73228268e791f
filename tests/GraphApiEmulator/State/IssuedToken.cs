namespace SocialSync.GraphApiEmulator.State;

/// <summary>
/// A token whose lifetime the emulator knows: one it issued (exchange, refresh) or one the control API registered.
/// Tokens it does not know stay valid forever, as before.
/// </summary>
public sealed record IssuedToken(string Token, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
{
    /// <summary>Meta's long-lived token lifetime, as refresh_access_token answers it (expires_in).</summary>
    public static readonly TimeSpan LongLived = TimeSpan.FromSeconds(5184000);

    /// <summary>An Instagram token may be refreshed only once it is at least this old.</summary>
    public static readonly TimeSpan MinimumAgeToRefresh = TimeSpan.FromHours(24);

    public bool IsExpired(DateTimeOffset now) => now >= ExpiresAt;

    public object View(DateTimeOffset now) => new
    {
        token = Token,
        issued_at = IssuedAt,
        expires_at = ExpiresAt,
        expired = IsExpired(now),
    };
}
