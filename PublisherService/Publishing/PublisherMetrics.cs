using System.Diagnostics.Metrics;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Publishing;

public sealed class PublisherMetrics
{
    public const string MeterName = "SocialSync.Publisher";

    private readonly Counter<long> _outcomes;

    public PublisherMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _outcomes = meter.CreateCounter<long>("socialsync.publisher.outcomes", description: "Publish attempts by platform and outcome");
    }

    public void Outcome(Platform platform, OutcomeKind kind) =>
        _outcomes.Add(1, new("platform", platform.ToString().ToLowerInvariant()), new("outcome", kind.ToString().ToLowerInvariant()));
}
