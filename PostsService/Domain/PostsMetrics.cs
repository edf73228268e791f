using System.Diagnostics.Metrics;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>The seed's monitoring figures as live metrics (meter SocialSync.Posts).</summary>
public sealed class PostsMetrics
{
    public const string MeterName = "SocialSync.Posts";

    private readonly Counter<long> _created;
    private readonly Counter<long> _outcomes;
    private readonly Histogram<double> _lateness;

    public PostsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _created = meter.CreateCounter<long>("socialsync.posts.created", description: "Posts created");
        _outcomes = meter.CreateCounter<long>("socialsync.posts.outcomes", description: "Publish attempt outcomes by platform and kind");
        _lateness = meter.CreateHistogram<double>("socialsync.posts.publish_lateness", unit: "s",
            description: "Published time minus publish_at");
    }

    public void PostCreated(Platform platform) =>
        _created.Add(1, new KeyValuePair<string, object?>("platform", platform.ToString().ToLowerInvariant()));

    public void Outcome(string platform, string kind) =>
        _outcomes.Add(1, new("platform", platform), new("outcome", kind));

    public void Published(string platform, TimeSpan lateness) =>
        _lateness.Record(lateness.TotalSeconds, new KeyValuePair<string, object?>("platform", platform));
}
