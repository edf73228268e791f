using System.Diagnostics.Metrics;
using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// The monitoring figures of the original REST contract as live metrics (meter SocialSync.Posts): success rate
/// (published / outcomes), retry rate (retried), platform distribution (every counter is tagged by platform),
/// average delay (publish_lateness). The gauges (due but not dispatched, outbox backlog) come from
/// <c>PostsGauges</c>.
/// </summary>
public sealed class PostsMetrics
{
    public const string MeterName = "SocialSync.Posts";

    private readonly Counter<long> _created;
    private readonly Counter<long> _outcomes;
    private readonly Counter<long> _published;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deferred;
    private readonly Counter<long> _unconfirmed;
    private readonly Counter<long> _missed;
    private readonly Counter<long> _leaseExpired;
    private readonly Counter<long> _reconciliations;
    private readonly Histogram<double> _lateness;

    public PostsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        Meter = meter;
        _created = meter.CreateCounter<long>("socialsync.posts.created", "{post}", "Posts created");
        _outcomes = meter.CreateCounter<long>("socialsync.posts.outcomes", "{attempt}", "Publish attempt outcomes by platform and kind");
        _published = meter.CreateCounter<long>("socialsync.posts.published", "{post}", "Posts published");
        _failed = meter.CreateCounter<long>("socialsync.posts.failed", "{post}", "Posts that failed for good, by error class (retries exhausted count as transient)");
        _retried = meter.CreateCounter<long>("socialsync.posts.retried", "{post}", "Posts requeued for a retry after a transient failure");
        _deferred = meter.CreateCounter<long>("socialsync.posts.deferred", "{post}", "Posts requeued without using a retry: rate-limited / quota, or channel not active");
        _unconfirmed = meter.CreateCounter<long>("socialsync.posts.unconfirmed", "{post}", "Posts whose send may or may not have gone out (a person decides)");
        _missed = meter.CreateCounter<long>("socialsync.posts.missed", "{post}", "Posts found overdue beyond the misfire window");
        _leaseExpired = meter.CreateCounter<long>("socialsync.posts.lease_expired", "{post}", "Claims whose lease expired before an outcome, by what happened next");
        _reconciliations = meter.CreateCounter<long>("socialsync.posts.reconciliations", "{post}", "Outcomes of attempts that first had to reconcile an earlier, unknown attempt");
        _lateness = meter.CreateHistogram<double>("socialsync.posts.publish_lateness", "s", "Published time minus publish_at",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400] });
    }

    /// <summary>The meter, for observable instruments registered elsewhere in PostsService.</summary>
    public Meter Meter { get; }

    public void PostCreated(Platform platform) =>
        _created.Add(1, new KeyValuePair<string, object?>("platform", platform.ToString().ToLowerInvariant()));

    public void Outcome(string platform, string kind) =>
        _outcomes.Add(1, new("platform", platform), new("outcome", kind));

    /// <summary>An applied outcome: what the attempt reported, and the post's status that followed.</summary>
    public void OutcomeApplied(string platform, OutcomeKind kind, PostStatus status, string? errorClass, bool reconciled)
    {
        var outcome = kind.ToWord();
        var errorTag = errorClass ?? "none";
        _outcomes.Add(1, new("platform", platform), new("outcome", outcome), new("error_class", errorTag));
        switch (status)
        {
            case PostStatus.Published:
                _published.Add(1, new KeyValuePair<string, object?>("platform", platform));
                break;
            case PostStatus.Failed:
                _failed.Add(1, new("platform", platform), new("error_class", errorTag));
                break;
            case PostStatus.Unconfirmed:
                _unconfirmed.Add(1, new KeyValuePair<string, object?>("platform", platform));
                break;
            case PostStatus.Queued when kind == OutcomeKind.TransientFailure:
                _retried.Add(1, new("platform", platform), new("error_class", errorTag));
                break;
            case PostStatus.Queued:
                _deferred.Add(1, new("platform", platform), new("reason", kind == OutcomeKind.Held ? "channel_inactive" : errorTag));
                break;
        }
        if (reconciled)
        {
            _reconciliations.Add(1, new("platform", platform), new("outcome", outcome));
        }
    }

    public void Published(string platform, TimeSpan lateness) =>
        _lateness.Record(lateness.TotalSeconds, new KeyValuePair<string, object?>("platform", platform));

    public void Missed(int count) => _missed.Add(count);

    public void LeasesExpired(int requeued, int sentToReconciliation)
    {
        if (requeued > 0)
        {
            _leaseExpired.Add(requeued, new KeyValuePair<string, object?>("result", "requeued"));
        }
        if (sentToReconciliation > 0)
        {
            _leaseExpired.Add(sentToReconciliation, new KeyValuePair<string, object?>("result", "needs_reconciliation"));
        }
    }
}
