using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>What one reported outcome does to its post: the new status, when it is due again, and its run's record.</summary>
public sealed record OutcomeDecision(
    string Status,
    DateTimeOffset? DueAt,
    string? RunStatus,
    string? ErrorClass,
    int RetryCount,
    string? ErrorMessage);

/// <summary>
/// The outcome state machine. Only transient failures consume a retry (back-off from <see cref="RetryPolicy"/>);
/// a rate-limit deferral waits for the platform's time and a held post waits for its channel, neither using one.
/// </summary>
public static class OutcomeRules
{
    public static readonly TimeSpan HoldInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan LongestDeferral = TimeSpan.FromHours(25);
    public static readonly TimeSpan ShortestDeferral = TimeSpan.FromSeconds(1);

    /// <summary>The decision for <paramref name="outcome"/>, or null when its kind is not one we know.</summary>
    public static OutcomeDecision? Decide(PublishOutcome outcome, int retryCount, DateTimeOffset now, RetryPolicy retryPolicy, double random01)
    {
        var error = string.IsNullOrEmpty(outcome.Error) ? null : outcome.Error;
        switch (outcome.Kind)
        {
            case OutcomeKind.Published:
                return new("published", null, "success", null, retryCount, null);
            case OutcomeKind.TransientFailure:
                return retryPolicy.NextDelay(retryCount, random01) is { } delay
                    ? new("queued", now + delay, "failed", "transient", retryCount + 1, error)
                    : new("failed", null, "failed", "transient", retryCount, $"Gave up after {retryCount} retries: {outcome.Error}");
            case OutcomeKind.Deferred:
                return new("queued", DeferUntil(outcome.RetryAt?.ToDateTimeOffset(), now), "deferred", "rate_limited", retryCount, error);
            case OutcomeKind.PermanentFailure:
                return new("failed", null, "failed", "permanent", retryCount, error);
            case OutcomeKind.AuthFailure:
                return new("failed", null, "failed", "auth", retryCount, error);
            case OutcomeKind.Unconfirmed:
                return new("unconfirmed", null, "unconfirmed", "ambiguous", retryCount, error);
            case OutcomeKind.Held:
                return new("queued", now + HoldInterval, null, null, retryCount, null);
            default:
                return null;
        }
    }

    /// <summary>The platform's retry time, kept between a second and <see cref="LongestDeferral"/> from now.</summary>
    public static DateTimeOffset DeferUntil(DateTimeOffset? retryAt, DateTimeOffset now)
    {
        var earliest = now + ShortestDeferral;
        if (retryAt is not { } at || at < earliest)
        {
            return earliest;
        }
        return at > now + LongestDeferral ? now + LongestDeferral : at;
    }
}
