using System.Diagnostics.Metrics;
using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Publishing;

/// <summary>
/// PublisherService's metrics (meter SocialSync.Publisher): attempts by platform and outcome, and quota deferrals
/// (posts deferred because the platform rate-limited the channel: by the platform's answer, or by the channel's
/// throttle without a call). Graph API call counts and durations come from the HttpClient metrics.
/// </summary>
public sealed class PublisherMetrics
{
    public const string MeterName = "SocialSync.Publisher";

    private readonly Counter<long> _outcomes;
    private readonly Counter<long> _quotaDeferrals;

    public PublisherMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _outcomes = meter.CreateCounter<long>("socialsync.publisher.outcomes", "{attempt}", "Publish attempts by platform and outcome");
        _quotaDeferrals = meter.CreateCounter<long>("socialsync.publisher.quota_deferrals", "{attempt}",
            "Attempts deferred by a rate limit or quota, by source (platform: Meta answered with a throttling error; throttle: held without a call)");
    }

    public void Outcome(Platform platform, OutcomeKind kind) =>
        _outcomes.Add(1, new("platform", Name(platform)), new("outcome", kind.ToWord()));

    public void Outcome(Platform platform, PublishOutcome outcome)
    {
        Outcome(platform, outcome.Kind);
        if (outcome.Kind == OutcomeKind.Deferred)
        {
            _quotaDeferrals.Add(1, new("platform", Name(platform)), new("source", outcome.ErrorCode == 0 ? "throttle" : "platform"));
        }
    }

    private static string Name(Platform platform) => platform.ToString().ToLowerInvariant();
}
