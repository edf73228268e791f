using System.Diagnostics;

namespace SocialSync.ServiceDefaults;

/// <summary>Names of the activity source, spans, tags and meters every SocialSync service emits.</summary>
public static class SocialSyncTelemetry
{
    public const string ActivitySourceName = "SocialSync";
    public const string MeterPrefix = "SocialSync.";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    /// <summary>Span names of a post's trace, in the order a post meets them.</summary>
    public static class Spans
    {
        /// <summary>PostsService: the root of a retry's trace (a requeue after an attempt), linked to the attempt before.</summary>
        public const string RetryPost = "retry post";

        /// <summary>PostsService: concurrent creates written to PostgreSQL in one transaction.</summary>
        public const string WritePosts = "write posts";

        /// <summary>SchedulerService: the outbox relay put the post in the Redis index (batch: "relay schedule changes").</summary>
        public const string SchedulePost = "schedule post";
        public const string RelayBatch = "relay schedule changes";

        /// <summary>SchedulerService: the post was claimed (batch: "claim due posts"), then handed to PublisherService.</summary>
        public const string DispatchPost = "dispatch post";
        public const string ClaimBatch = "claim due posts";

        /// <summary>PublisherService: one attempt at one post (batch: the PublishPosts server span).</summary>
        public const string PublishPost = "publish post";

        /// <summary>PostsService: the attempt's outcome applied (batch: the ReportOutcomes server span).</summary>
        public const string RecordOutcome = "record outcome";
    }

    public static class Tags
    {
        public const string PostId = "socialsync.post_id";
        public const string ChannelId = "socialsync.channel_id";
        public const string Platform = "socialsync.platform";
        public const string Attempt = "socialsync.attempt";
        public const string Outcome = "socialsync.outcome";
        public const string ErrorClass = "socialsync.error_class";
        public const string Status = "socialsync.status";
        public const string DueAt = "socialsync.due_at";
        public const string DispatchPath = "socialsync.dispatch_path";
        public const string BatchSize = "socialsync.batch_size";
    }

    /// <summary>
    /// Starts a span for one post inside a batch: its parent is the post's own trace context (the traceparent that
    /// travels with the post through PostgreSQL and Redis), and it links to the batch span that carried it, so each
    /// post keeps one trace however it was batched. The span is current until the scope is disposed; then the
    /// caller's current span (the batch) is current again.
    /// </summary>
    public static SpanScope StartPostSpan(string name, ActivityKind kind, string? traceparent, string postId,
        ActivityContext batch = default, DateTimeOffset startTime = default)
    {
        var previous = Activity.Current;
        // Without a stored context (a row older than tracing) the post gets a trace of its own, not the batch's.
        var hasParent = ActivityContext.TryParse(traceparent, null, out var parent);
        if (!hasParent)
        {
            Activity.Current = null;
        }
        var links = batch == default ? null : new[] { new ActivityLink(batch) };
        var activity = ActivitySource.StartActivity(name, kind, parent, [new(Tags.PostId, postId)], links, startTime);
        return new SpanScope(activity, previous);
    }

    /// <summary>The current span's context when it is recorded (a batch span to link to), else default.</summary>
    public static ActivityContext RecordedCurrent => Activity.Current is { Recorded: true } current ? current.Context : default;

    /// <summary>Starts a new trace (no parent, even inside another span): a batch's root, or a retry's.</summary>
    public static SpanScope StartRoot(string name, ActivityKind kind = ActivityKind.Internal, ActivityContext link = default,
        DateTimeOffset startTime = default)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = ActivitySource.StartActivity(name, kind, default(ActivityContext),
            links: link == default ? null : [new ActivityLink(link)], startTime: startTime);
        return new SpanScope(activity, previous);
    }

    /// <summary>A started span (null when nobody records it) that restores the previous current span when disposed.</summary>
    public sealed class SpanScope(Activity? activity, Activity? previous) : IDisposable
    {
        public Activity? Activity { get; } = activity;

        public ActivityContext Context => Activity?.Context ?? default;

        /// <summary>The span's traceparent, to store or send with the post; null when not recorded.</summary>
        public string? Traceparent => Activity is { Recorded: true } a ? a.Id : null;

        public SpanScope SetTag(string key, object? value)
        {
            Activity?.SetTag(key, value);
            return this;
        }

        public void Dispose()
        {
            Activity?.Dispose();
            System.Diagnostics.Activity.Current = previous;
        }
    }

    /// <summary>
    /// Makes everything in the scope untraced, in this service and (through a not-sampled traceparent marked with
    /// <see cref="QuietTraceState"/>) in every service it calls: for background polls that usually find nothing (the
    /// safety net each second, the relay's long poll, index reads), which would otherwise bury a post's trace under
    /// thousands of empty ones. Spans that carry a post are started with <see cref="StartPostSpan"/> or
    /// <see cref="StartRoot"/> and are recorded anyway. The services' sampler
    /// (<see cref="Telemetry.QuietScopeSampler"/>) honours the scope whatever OTEL_TRACES_SAMPLER says.
    /// </summary>
    public static IDisposable Quiet() => new QuietScope();

    /// <summary>The W3C tracestate a quiet scope carries, so the service it calls knows the call is a quiet one.</summary>
    public const string QuietTraceState = "socialsync=quiet";

    /// <summary>Whether <paramref name="context"/> is (a child of) a quiet scope, here or in the calling service.</summary>
    public static bool IsQuiet(ActivityContext context) =>
        (context.TraceFlags & ActivityTraceFlags.Recorded) == 0
        && context.TraceState is { } traceState
        && traceState.Split(',').Any(member => member.Trim() == QuietTraceState);

    private sealed class QuietScope : IDisposable
    {
        private readonly Activity? _previous = Activity.Current;
        private readonly Activity _quiet;

        public QuietScope()
        {
            Activity.Current = null;
            _quiet = new Activity("socialsync.quiet");
            _quiet.SetIdFormat(ActivityIdFormat.W3C);
            _quiet.ActivityTraceFlags = ActivityTraceFlags.None;
            _quiet.TraceStateString = QuietTraceState;
            _quiet.Start();
        }

        public void Dispose()
        {
            _quiet.Stop();
            Activity.Current = _previous;
        }
    }
}
