namespace SocialSync.PublisherService.Tokens;

/// <summary>When channels' access tokens are refreshed, and when the user is warned of one that cannot be (section "Tokens").</summary>
public sealed class TokenOptions
{
    public const string SectionName = "Tokens";

    /// <summary>How often the refresher looks for tokens nearing their expiry.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// A refreshable token is refreshed once it expires within this long: 10 days before a 60-day token ends (Meta
    /// refreshes only tokens at least a day old), so a refusal is met with days to spare.
    /// </summary>
    public TimeSpan RefreshLeadTime { get; set; } = TimeSpan.FromDays(10);

    /// <summary>A token that expires within this long and cannot be refreshed marks its channel expiring, for the user to reconnect.</summary>
    public TimeSpan ExpiringNotice { get; set; } = TimeSpan.FromDays(7);
}
