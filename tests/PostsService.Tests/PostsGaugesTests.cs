using SocialSync.PostsService.Telemetry;

namespace SocialSync.PostsService.Tests;

/// <summary>How often the queued total is counted: every interval while a count is quick, less often once it is slow.</summary>
public sealed class PostsGaugesTests
{
    private static readonly DateTimeOffset CountedAt = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public void A_quick_count_is_repeated_after_the_gauges_interval()
    {
        Assert.Equal(CountedAt + Interval, PostsGauges.NextQueuedCount(CountedAt, TimeSpan.FromMilliseconds(3), Interval));
    }

    [Fact]
    public void A_slow_count_waits_long_enough_to_take_a_twentieth_of_the_time()
    {
        // 350 ms: a million queued posts (docs/scale.md).
        Assert.Equal(CountedAt + TimeSpan.FromSeconds(7), PostsGauges.NextQueuedCount(CountedAt, TimeSpan.FromMilliseconds(350), Interval));
        Assert.Equal(CountedAt + TimeSpan.FromSeconds(70), PostsGauges.NextQueuedCount(CountedAt, TimeSpan.FromSeconds(3.5), Interval));
    }
}
