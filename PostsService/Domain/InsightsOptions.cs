namespace SocialSync.PostsService.Domain;

/// <summary>When engagement is measured, and how much history suggestions read (section "Insights", docs/insights.md).</summary>
public sealed class InsightsOptions
{
    public const string SectionName = "Insights";

    /// <summary>
    /// The ages after publishing at which an Instagram post's insights are snapshotted; after the last, no more. Unset:
    /// 1 hour, 1 day and 7 days (a post's engagement mostly comes within a week).
    /// </summary>
    public TimeSpan[] SnapshotAges { get; set; } = [];

    public IReadOnlyList<TimeSpan> EffectiveSnapshotAges => SnapshotAges.Length > 0
        ? SnapshotAges.Order().ToArray()
        : [TimeSpan.FromHours(1), TimeSpan.FromDays(1), TimeSpan.FromDays(7)];

    /// <summary>How long after its last age a post's missed snapshots are still fetched (e.g. PublisherService was down).</summary>
    public TimeSpan LateSnapshotGrace { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often an Instagram account's online_followers are measured.</summary>
    public TimeSpan OnlineFollowersInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The posts suggestions learn from: those published within this window (Meta keeps insights 90 days).</summary>
    public TimeSpan HistoryWindow { get; set; } = TimeSpan.FromDays(90);
}
