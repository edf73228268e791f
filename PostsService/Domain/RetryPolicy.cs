namespace SocialSync.PostsService.Domain;

public sealed class RetryOptions
{
    public const string SectionName = "Retry";

    /// <summary>Retries after the first attempt (3 by default).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>5 minutes by default: retries wait 5, 10, 20 minutes (base × 2^retry_count).</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Each delay is spread by up to this share either way, so failed bursts do not retry in lockstep.</summary>
    public double JitterRatio { get; set; } = 0.1;

    /// <summary>A post found this overdue (after an outage) is marked missed instead of published.</summary>
    public TimeSpan MisfireWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a claim holds a post before it is recovered.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>The back-off: 5 × 2^retry_count minutes, with jitter; none left after MaxRetries.</summary>
public sealed class RetryPolicy(RetryOptions options)
{
    public RetryOptions Options => options;

    /// <summary>The delay before the next attempt, or null when <paramref name="retriesSoFar"/> used them all.</summary>
    public TimeSpan? NextDelay(int retriesSoFar, double random01)
    {
        if (retriesSoFar >= options.MaxRetries)
        {
            return null;
        }
        var baseDelay = options.BaseDelay * Math.Pow(2, retriesSoFar);
        var jitter = 1 + options.JitterRatio * (2 * random01 - 1);
        return baseDelay * jitter;
    }
}
