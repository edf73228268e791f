using System.Diagnostics;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.PostsService.Telemetry;

/// <summary>PostsService's part of a post's trace: the create, the recorded outcome, and a retry's new trace.</summary>
public static class PostTracing
{
    /// <summary>Names the post on the CreatePost span, the root of the post's first trace (its id is stored as traceparent).</summary>
    public static void Created(ScheduledPost post)
    {
        var activity = Activity.Current;
        activity?.SetTag(Tags.PostId, post.Id);
        activity?.SetTag(Tags.ChannelId, post.ChannelId);
        activity?.SetTag(Tags.Platform, post.Platform.ToString().ToLowerInvariant());
    }

    /// <summary>
    /// One outcome of a ReportOutcomes batch, as a span in the attempt's trace (child of PublisherService's
    /// "publish post", linked to the batch call).
    /// </summary>
    public static SpanScope StartRecordOutcome(PublishOutcome outcome) =>
        StartPostSpan(Spans.RecordOutcome, ActivityKind.Internal, outcome.Traceparent, outcome.PostId, Activity.Current?.Context ?? default)
            .SetTag(Tags.Attempt, outcome.Attempt)
            .SetTag(Tags.Outcome, outcome.Kind.ToWord());

    /// <summary>
    /// A requeue starts the next attempt's trace: a new trace (one trace per attempt keeps each readable, even when
    /// a deferral lasts hours) whose root links back to the attempt that decided it. Returns its traceparent, to
    /// store with the post; null when tracing is off (the stored context is then kept).
    /// </summary>
    public static string? StartRetryTrace(SpanScope decidedBy, string postId, int attempt, string reason, DateTimeOffset dueAt)
    {
        using var retry = StartRoot(Spans.RetryPost, ActivityKind.Internal, decidedBy.Context)
            .SetTag(Tags.PostId, postId)
            .SetTag(Tags.Attempt, attempt)
            .SetTag(Tags.ErrorClass, reason)
            .SetTag(Tags.DueAt, dueAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        return retry.Traceparent;
    }
}
