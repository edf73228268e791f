using SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Domain;

/// <summary>What one reported outcome does to its post: the new status, when it is due again, and its run's record.</summary>
public sealed record OutcomeDecision(
    PostStatus Status,
    DateTimeOffset? DueAt,
    string? RunStatus,
    string? ErrorClass,
    int RetryCount,
    string? ErrorMessage);

/// <summary>
/// The current claim of a post being published, as the outcome's transaction locked it: the attempt it fences, what
/// the decision and the metrics need, whether the attempt first reconciled an earlier one, whether the post recurs.
/// </summary>
public sealed record CurrentClaim(int Attempt, string Platform, int RetryCount, DateTimeOffset PublishAt, Guid ChannelId, bool Reconciled,
    bool Recurring);

/// <summary>
/// The outcome state machine. Only transient failures consume a retry (back-off from <see cref="RetryPolicy"/>);
/// a rate-limit deferral waits for the platform's time, and a held post waits for its channel, neither using one.
/// An auth failure is the channel's problem, not the post's: the post is held like the channel's other posts.
/// </summary>
public static class OutcomeRules
{
    public static readonly TimeSpan LongestDeferral = TimeSpan.FromHours(25);
    public static readonly TimeSpan ShortestDeferral = TimeSpan.FromSeconds(1);

    /// <summary>The decision for <paramref name="outcome"/>, or null when its kind is not one we know.</summary>
    public static OutcomeDecision? Decide(PublishOutcome outcome, int retryCount, DateTimeOffset now, RetryPolicy retryPolicy, double random01)
    {
        var error = ProtoStrings.NullIfUnset(outcome.Error);
        switch (outcome.Kind)
        {
            case OutcomeKind.Published:
                return new(PostStatus.Published, null, "success", null, retryCount, null);
            case OutcomeKind.TransientFailure:
                return retryPolicy.NextDelay(retryCount, random01) is { } delay
                    ? new(PostStatus.Queued, now + delay, "failed", "transient", retryCount + 1, error)
                    : new(PostStatus.Failed, null, "failed", "transient", retryCount, $"Gave up after {retryCount} retries: {outcome.Error}");
            case OutcomeKind.Deferred:
                return new(PostStatus.Queued, DeferUntil(outcome.RetryAt?.ToDateTimeOffset(), now), "deferred", "rate_limited", retryCount, error);
            case OutcomeKind.PermanentFailure:
                return new(PostStatus.Failed, null, "failed", "permanent", retryCount, error);
            case OutcomeKind.AuthFailure:
                // Queued at its unchanged due time: the channel now needs a reconnect, which keeps the post out of the
                // index until then; reconnecting puts it back, late but inside the misfire window, or missed beyond it.
                return new(PostStatus.Queued, null, "failed", "auth", retryCount, error);
            case OutcomeKind.Unconfirmed:
                return new(PostStatus.Unconfirmed, null, "unconfirmed", "ambiguous", retryCount, error);
            case OutcomeKind.Held:
                // The channel was paused or disconnected after the claim: the post waits for it at its unchanged due
                // time (out of the index meanwhile), so the misfire window still counts from when it was due.
                return new(PostStatus.Queued, null, null, null, retryCount, error);
            default:
                return null;
        }
    }

    /// <summary>What a channel whose token the platform rejected says until the user reconnects it.</summary>
    public const string ReconnectReason = "The platform rejected the access token; reconnect the account and rotate its token.";

    /// <summary>
    /// Decides each outcome of a batch against the posts' current claims (<paramref name="ids"/>[i] is the post of
    /// <paramref name="outcomes"/>[i]). An outcome whose attempt is not the current claim (a fenced-out worker's), or
    /// a second one for the same post, is stale: its decision is null and it changes nothing.
    /// </summary>
    public static OutcomeDecision?[] DecideBatch(IReadOnlyList<PublishOutcome> outcomes, IReadOnlyList<Guid> ids,
        IReadOnlyDictionary<Guid, CurrentClaim> claims, DateTimeOffset now, RetryPolicy retryPolicy, Func<double> random01)
    {
        var decisions = new OutcomeDecision?[outcomes.Count];
        var used = new HashSet<Guid>();
        for (var i = 0; i < outcomes.Count; i++)
        {
            if (claims.TryGetValue(ids[i], out var claim) && claim.Attempt == outcomes[i].Attempt && used.Add(ids[i]))
            {
                decisions[i] = Decide(outcomes[i], claim.RetryCount, now, retryPolicy, random01());
            }
        }
        return decisions;
    }

    /// <summary>
    /// The outcomes as they stand once the sends Meta already reported are counted: an unconfirmed outcome whose lost
    /// send has a delivery status (the webhook overtook the outcome) is a publication, with that message's wamid.
    /// </summary>
    public static IReadOnlyList<PublishOutcome> WithReportedSends(IReadOnlyList<PublishOutcome> outcomes, IReadOnlyList<Guid> ids,
        IReadOnlyDictionary<(Guid PostId, string CallbackRef), string> reportedSends)
    {
        if (reportedSends.Count == 0)
        {
            return outcomes;
        }
        var settled = outcomes.ToArray();
        for (var i = 0; i < settled.Length; i++)
        {
            var outcome = settled[i];
            if (outcome.Kind == OutcomeKind.Unconfirmed && outcome.UnconfirmedSendRef.Length > 0
                && reportedSends.TryGetValue((ids[i], outcome.UnconfirmedSendRef), out var wamid))
            {
                var published = outcome.Clone();
                published.Kind = OutcomeKind.Published;
                published.PlatformPostId = outcome.PlatformPostId.Length > 0 ? outcome.PlatformPostId : wamid;
                published.Error = "";
                published.UnconfirmedSendRef = "";
                settled[i] = published;
            }
        }
        return settled;
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
