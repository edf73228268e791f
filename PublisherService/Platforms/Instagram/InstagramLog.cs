namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>The Instagram publisher's log messages (category InstagramPublisher), shared by the parts of its flow.</summary>
internal static partial class InstagramLog
{
    [LoggerMessage(1, LogLevel.Information, "Post {PostId}: reconciling container {ContainerId}, which is {Status}")]
    public static partial void LogReconciling(this ILogger log, string postId, string containerId, string status);

    [LoggerMessage(2, LogLevel.Warning, "Container {ContainerId} was already PUBLISHED: recorded as published, not published again")]
    public static partial void LogReconciledPublished(this ILogger log, string containerId);

    [LoggerMessage(3, LogLevel.Information, "Post {PostId}: reconciliation found no recorded container, so nothing was published; starting afresh")]
    public static partial void LogNothingToReconcile(this ILogger log, string postId);

    [LoggerMessage(4, LogLevel.Information, "Post {PostId}: media {MediaId} was published by an earlier attempt")]
    public static partial void LogAlreadyPublished(this ILogger log, string postId, string mediaId);

    [LoggerMessage(5, LogLevel.Debug, "Post {PostId}: container {ContainerId} created ({Children} carousel items)")]
    public static partial void LogContainerCreated(this ILogger log, string postId, string containerId, int children);

    [LoggerMessage(6, LogLevel.Warning, "Post {PostId}: media_publish of {ContainerId} got no answer; the container is {Status}")]
    public static partial void LogAmbiguousPublish(this ILogger log, string postId, string containerId, string status);

    [LoggerMessage(7, LogLevel.Warning, "Post {PostId}: creating a container got no answer ({Failure})")]
    public static partial void LogAmbiguousCreate(this ILogger log, string postId, string failure);

    [LoggerMessage(8, LogLevel.Warning, "Reading the permalink of published media {MediaId} failed: {Reason}")]
    public static partial void LogPermalinkFailed(this ILogger log, string mediaId, string reason);

    [LoggerMessage(9, LogLevel.Information, "Post {PostId}: Instagram publishing quota used up ({Usage}/{Total}); deferred to {RetryAt}")]
    public static partial void LogQuotaExhausted(this ILogger log, string postId, int usage, int total, DateTimeOffset retryAt);
}
