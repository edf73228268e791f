using System.Diagnostics;
using SocialSync.Posts.V1;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.SchedulerService.Telemetry;

/// <summary>The scheduler's part of a post's trace: the hand-over into the index, and the claim.</summary>
public static class DispatchTracing
{
    /// <summary>
    /// Records each indexed post in its own trace (child of the create or retry span whose context was stored with
    /// the post), linked to the relay batch that carried it.
    /// </summary>
    public static void Scheduled(IEnumerable<ScheduleChange> upserts, DateTimeOffset startedAt)
    {
        var batch = RecordedCurrent;
        foreach (var change in upserts)
        {
            using var span = StartPostSpan(Spans.SchedulePost, ActivityKind.Consumer, change.Traceparent, change.PostId, batch, startedAt)
                .SetTag(Tags.DueAt, change.DueAt?.ToDateTimeOffset().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Records each claimed post in its own trace, linked to the claim batch, and makes that span the context sent
    /// on to PublisherService (so "publish post" is its child).
    /// </summary>
    public static void Claimed(IEnumerable<ClaimedPost> claimed, string path, DateTimeOffset startedAt)
    {
        var batch = RecordedCurrent;
        foreach (var post in claimed)
        {
            using var span = StartPostSpan(Spans.DispatchPost, ActivityKind.Producer, post.Traceparent, post.PostId, batch, startedAt)
                .SetTag(Tags.ChannelId, post.ChannelId)
                .SetTag(Tags.Platform, post.Platform.ToString().ToLowerInvariant())
                .SetTag(Tags.Attempt, post.Attempt)
                .SetTag(Tags.DispatchPath, path);
            if (span.Traceparent is { } traceparent)
            {
                post.Traceparent = traceparent;
            }
        }
    }
}
