namespace SocialSync.Benchmarks;

/// <summary>One reading of a process's memory, <paramref name="Elapsed"/> after the soak started.</summary>
public readonly record struct MemorySample(TimeSpan Elapsed, double Megabytes);

/// <summary>
/// Whether a process's memory keeps growing once warmed up: a least-squares line through the samples after the
/// warm-up, its slope extrapolated over an hour. Memory "keeps growing" when that slope is both above the limit
/// (<see cref="FixedLimitMbPerHour"/> or <see cref="RelativeLimitPerHour"/> of the mean, whichever is larger) and
/// above the run's noise floor (twice the residuals' standard deviation, risen over the fitted window): a short
/// run cannot tell a slow leak from a garbage collector's sawtooth, and says so rather than guessing.
/// </summary>
public sealed record MemoryTrend(
    TimeSpan WarmUp,
    int Samples,
    TimeSpan MeanElapsed,
    double MeanMb,
    double SlopeMbPerHour,
    double LimitMbPerHour,
    double NoiseFloorMbPerHour)
{
    /// <summary>25 MB an hour is 600 MB a day: a service that grows faster must be restarted to survive a week.</summary>
    public const double FixedLimitMbPerHour = 25;

    /// <summary>A large process may drift by a tenth of itself an hour before that counts as growth.</summary>
    public const double RelativeLimitPerHour = 0.10;

    /// <summary>How many residual standard deviations the fitted rise must exceed to count as growth, not noise.</summary>
    public const double NoiseDeviations = 2;

    private const int MinimumSamples = 3;

    /// <summary>The fitted line's value at <paramref name="elapsed"/> (it passes through the samples' means).</summary>
    public double FittedMbAt(TimeSpan elapsed) => MeanMb + SlopeMbPerHour * (elapsed - MeanElapsed).TotalHours;

    /// <summary>True unless memory grows, after warm-up, faster than the limit and clearly beyond the noise.</summary>
    public bool IsFlat => SlopeMbPerHour <= LimitMbPerHour || SlopeMbPerHour <= NoiseFloorMbPerHour;

    /// <summary>
    /// The part of a run left out of the fit: its first fifth, but at least two minutes (JIT tiering, pools and the
    /// garbage collector's budgets settling) or, in a run shorter than four minutes, its first half.
    /// </summary>
    public static TimeSpan WarmUpOf(TimeSpan runLength) =>
        TimeSpan.FromTicks(Math.Max((long)(runLength.Ticks * 0.2), Math.Min(TimeSpan.FromMinutes(2).Ticks, runLength.Ticks / 2)));

    /// <summary>Fits the samples taken after the warm-up of a run as long as the last sample's time.</summary>
    public static MemoryTrend Of(IReadOnlyList<MemorySample> samples)
    {
        if (samples.Count == 0)
        {
            throw new ArgumentException("No memory samples to judge.", nameof(samples));
        }
        var warmUp = WarmUpOf(samples.Max(s => s.Elapsed));
        var fitted = samples.Where(s => s.Elapsed >= warmUp).ToList();
        if (fitted.Count < MinimumSamples)
        {
            throw new ArgumentException($"{fitted.Count} samples after a warm-up of {warmUp}; at least {MinimumSamples} are needed to fit a line.", nameof(samples));
        }

        var hours = fitted.Select(s => s.Elapsed.TotalHours).ToArray();
        var megabytes = fitted.Select(s => s.Megabytes).ToArray();
        var meanHours = hours.Average();
        var meanMb = megabytes.Average();
        var covariance = hours.Zip(megabytes, (h, m) => (h - meanHours) * (m - meanMb)).Sum();
        var variance = hours.Sum(h => (h - meanHours) * (h - meanHours));
        var slope = variance > 0 ? covariance / variance : 0;
        var residualDeviation = Math.Sqrt(hours.Zip(megabytes, (h, m) => m - (meanMb + slope * (h - meanHours))).Sum(r => r * r) / fitted.Count);
        var window = hours[^1] - hours[0];
        var noiseFloor = window > 0 ? NoiseDeviations * residualDeviation / window : double.PositiveInfinity;

        return new MemoryTrend(warmUp, fitted.Count, TimeSpan.FromHours(meanHours), meanMb, slope, Math.Max(FixedLimitMbPerHour, RelativeLimitPerHour * meanMb), noiseFloor);
    }
}
