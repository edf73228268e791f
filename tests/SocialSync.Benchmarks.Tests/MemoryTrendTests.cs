namespace SocialSync.Benchmarks.Tests;

public sealed class MemoryTrendTests
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan TenMinutes = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_flat_series_with_noise_and_a_collectors_sawtooth_is_flat()
    {
        var random = new Random(7);
        // 165 MB, a 6 MB sawtooth every 40 s (allocation, then a collection), ±3 MB of noise.
        var samples = Series(TenMinutes, t => 165 + 6 * (t.TotalSeconds % 40 / 40) + (random.NextDouble() * 6 - 3));

        var trend = MemoryTrend.Of(samples);

        Assert.True(trend.IsFlat, $"slope {trend.SlopeMbPerHour:F1} MB/h, limit {trend.LimitMbPerHour:F1}, noise floor {trend.NoiseFloorMbPerHour:F1}");
        Assert.InRange(trend.MeanMb, 165, 171);
    }

    [Fact]
    public void A_series_growing_17_MB_a_minute_is_not_flat()
    {
        var random = new Random(7);
        // The scheduler in the 10-minute soak: 271 → 445 MB, with ±5 MB of noise.
        var samples = Series(TenMinutes, t => 271 + 17 * t.TotalMinutes + (random.NextDouble() * 10 - 5));

        var trend = MemoryTrend.Of(samples);

        Assert.False(trend.IsFlat);
        Assert.InRange(trend.SlopeMbPerHour, 17 * 60 * 0.9, 17 * 60 * 1.1);
    }

    [Fact]
    public void A_series_that_grows_during_warm_up_then_flattens_is_flat()
    {
        var random = new Random(7);
        // 100 → 250 MB over the first 90 s (JIT, pools, the collector's budgets), then 250 ± 3 MB.
        var samples = Series(TenMinutes, t => Math.Min(250, 100 + 150 * t.TotalSeconds / 90) + (random.NextDouble() * 6 - 3));

        var trend = MemoryTrend.Of(samples);

        Assert.True(trend.IsFlat, $"slope {trend.SlopeMbPerHour:F1} MB/h, limit {trend.LimitMbPerHour:F1}, noise floor {trend.NoiseFloorMbPerHour:F1}");
        Assert.Equal(TimeSpan.FromMinutes(2), trend.WarmUp);
    }

    [Fact]
    public void A_smooth_slow_leak_above_the_limit_is_not_flat()
    {
        // 60 MB an hour from 165 MB: above the 25 MB/h limit, and nothing to mistake it for.
        var samples = Series(TenMinutes, t => 165 + 60 * t.TotalHours);

        var trend = MemoryTrend.Of(samples);

        Assert.False(trend.IsFlat);
        Assert.Equal(MemoryTrend.FixedLimitMbPerHour, trend.LimitMbPerHour);
    }

    [Fact]
    public void Growth_smaller_than_the_noise_of_a_short_run_is_not_called_growth()
    {
        // 2 minutes rising 60 MB/h (2 MB in all) under ±10 MB that alternates sample by sample: the line's slope is
        // above the limit, but the run cannot tell it from noise.
        var samples = Series(TimeSpan.FromMinutes(2), t => 165 + 60 * t.TotalHours + ((int)(t / Every) % 2 == 0 ? 10 : -10));

        var trend = MemoryTrend.Of(samples);

        Assert.True(trend.SlopeMbPerHour > trend.LimitMbPerHour, $"slope {trend.SlopeMbPerHour:F1} MB/h");
        Assert.True(trend.NoiseFloorMbPerHour > trend.SlopeMbPerHour);
        Assert.True(trend.IsFlat);
    }

    [Fact]
    public void The_warm_up_is_a_fifth_of_a_long_run_at_least_two_minutes_and_half_of_a_short_one()
    {
        Assert.Equal(TimeSpan.FromMinutes(12), MemoryTrend.WarmUpOf(TimeSpan.FromHours(1)));
        Assert.Equal(TimeSpan.FromMinutes(2), MemoryTrend.WarmUpOf(TimeSpan.FromMinutes(5)));
        Assert.Equal(TimeSpan.FromMinutes(1), MemoryTrend.WarmUpOf(TimeSpan.FromMinutes(2)));
    }

    private static List<MemorySample> Series(TimeSpan length, Func<TimeSpan, double> megabytes)
    {
        var samples = new List<MemorySample>();
        for (var t = TimeSpan.Zero; t <= length; t += Every)
        {
            samples.Add(new MemorySample(t, megabytes(t)));
        }
        return samples;
    }
}
