using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Tests;

/// <summary>The alert thresholds are limits to exceed, not to reach, and a quiet hour raises nothing.</summary>
public sealed class PublishingAlertsTests
{
    private static readonly AlertThresholds Defaults = new();

    private static IEnumerable<string> Raised(AlertFigures figures) => PublishingAlerts.Raised(figures, Defaults).Select(a => a.Name);

    [Fact]
    public void Nothing_attempted_and_nothing_due_raises_nothing() =>
        Assert.Empty(Raised(new AlertFigures(0, TimeSpan.Zero, 0, 0, 0, 0)));

    [Fact]
    public void One_retry_per_post_is_the_limit_and_more_raises_retries_high()
    {
        Assert.Empty(Raised(new AlertFigures(0, TimeSpan.Zero, PostsAttempted: 10, Retries: 10, Published: 10, Failed: 0)));
        Assert.Equal([PublishingAlerts.RetriesHigh], Raised(new AlertFigures(0, TimeSpan.Zero, 10, 11, 10, 0)));
    }

    [Fact]
    public void Five_percent_failed_is_the_limit_and_more_raises_failures_high()
    {
        Assert.Empty(Raised(new AlertFigures(0, TimeSpan.Zero, 100, 0, Published: 95, Failed: 5)));
        Assert.Equal([PublishingAlerts.FailuresHigh], Raised(new AlertFigures(0, TimeSpan.Zero, 100, 0, Published: 94, Failed: 6)));
    }

    [Fact]
    public void One_stuck_post_raises_stuck_publishing_and_a_due_post_older_than_the_limit_raises_dispatcher_not_running()
    {
        Assert.Equal([PublishingAlerts.StuckPublishing], Raised(new AlertFigures(1, TimeSpan.Zero, 0, 0, 0, 0)));
        Assert.Empty(Raised(new AlertFigures(0, Defaults.DispatchLagLimit, 0, 0, 0, 0)));
        Assert.Equal([PublishingAlerts.DispatcherNotRunning],
            Raised(new AlertFigures(0, Defaults.DispatchLagLimit + TimeSpan.FromSeconds(1), 0, 0, 0, 0)));
    }
}
