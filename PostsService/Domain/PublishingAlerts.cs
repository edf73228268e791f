namespace SocialSync.PostsService.Domain;

/// <summary>
/// The alert thresholds of the original design (section "Alerts"), bound from configuration section Alerts.
/// A post is stuck when it has stayed in <c>publishing</c> without any change for <see cref="StuckPublishingAfter"/>
/// (a lease is 2 minutes, so only a dead sweeper or a hung call keeps it there); retries and failures are counted over
/// the runs started within <see cref="Window"/>; the dispatcher is taken as not running when an active channel's
/// queued post has been due for longer than <see cref="DispatchLagLimit"/>.
/// </summary>
public sealed record AlertThresholds
{
    public const string SectionName = "Alerts";

    public TimeSpan StuckPublishingAfter { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(1);
    public double RetriesPerPost { get; init; } = 1.0;
    public double FailureRatio { get; init; } = 0.05;
    public TimeSpan DispatchLagLimit { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>What the alerts are judged on: one sample of the whole service (every user's posts).</summary>
/// <param name="StuckPublishing">Posts in <c>publishing</c> unchanged for longer than the stuck limit.</param>
/// <param name="OldestDueAge">How long the longest-waiting due post of an active channel has been due (zero when none).</param>
/// <param name="PostsAttempted">Posts with a run started within the window.</param>
/// <param name="Retries">Runs started within the window that were not a post's first attempt.</param>
/// <param name="Published">Runs started within the window that published their post.</param>
/// <param name="Failed">Runs started within the window whose failure was the post's last word (the post is failed).</param>
public sealed record AlertFigures(long StuckPublishing, TimeSpan OldestDueAge, long PostsAttempted, long Retries, long Published, long Failed)
{
    /// <summary>Retries per attempted post over the window (0 when nothing was attempted).</summary>
    public double RetriesPerPost => PostsAttempted == 0 ? 0 : (double)Retries / PostsAttempted;

    /// <summary>Failed posts among the posts that ended within the window, published or failed (0 when none ended).</summary>
    public double FailureRatio => Published + Failed == 0 ? 0 : (double)Failed / (Published + Failed);
}

/// <summary>One raised alert: a stable name (for /health, the docs and the Prometheus rules) and what it saw.</summary>
public sealed record RaisedAlert(string Name, string Description);

/// <summary>Judges a sample against the thresholds; each alert has a stable name, listed in docs/alerts.md.</summary>
public static class PublishingAlerts
{
    public const string StuckPublishing = "stuck_publishing";
    public const string RetriesHigh = "retries_high";
    public const string FailuresHigh = "failures_high";
    public const string DispatcherNotRunning = "dispatcher_not_running";

    public static IReadOnlyList<RaisedAlert> Raised(AlertFigures figures, AlertThresholds thresholds)
    {
        var raised = new List<RaisedAlert>();
        if (figures.StuckPublishing > 0)
        {
            raised.Add(new(StuckPublishing,
                $"{figures.StuckPublishing} posts have been publishing without a change for over {DurationText.Describe(thresholds.StuckPublishingAfter)}."));
        }
        if (figures.RetriesPerPost > thresholds.RetriesPerPost)
        {
            raised.Add(new(RetriesHigh,
                $"{figures.RetriesPerPost:F2} retries per post over the last {DurationText.Describe(thresholds.Window)} (limit {thresholds.RetriesPerPost:F2})."));
        }
        if (figures.FailureRatio > thresholds.FailureRatio)
        {
            raised.Add(new(FailuresHigh,
                $"{figures.FailureRatio:P1} of the posts that ended in the last {DurationText.Describe(thresholds.Window)} failed (limit {thresholds.FailureRatio:P1})."));
        }
        if (figures.OldestDueAge > thresholds.DispatchLagLimit)
        {
            raised.Add(new(DispatcherNotRunning,
                $"A post has been due for {DurationText.Describe(figures.OldestDueAge)} without being dispatched (limit {DurationText.Describe(thresholds.DispatchLagLimit)})."));
        }
        return raised;
    }
}
