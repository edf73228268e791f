using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms;

/// <summary>Everything a platform needs for one attempt at one post.</summary>
public sealed record PublishJob(ScheduledPost Post, ChannelAccess Channel, int Attempt, bool NeedsReconciliation, string PlatformStateJson);

public abstract record PlatformResult(string? StateJson);

public sealed record PublishedResult(string PlatformPostId, string? Permalink, string? StateJson) : PlatformResult(StateJson);

public sealed record FailedResult(ErrorClass ErrorClass, string Error, int Code, int? Subcode, DateTimeOffset? RetryAt, string? StateJson)
    : PlatformResult(StateJson)
{
    public static FailedResult From(GraphApiException ex, string? stateJson) =>
        new(ex.ErrorClass, ex.Message, ex.Code, ex.Subcode, ex.RetryAt, stateJson);
}

/// <summary>The platform may or may not have the post; a person decides (never resent blindly).</summary>
public sealed record UnconfirmedResult(string Error, string? StateJson) : PlatformResult(StateJson);

/// <summary>Keeps a platform's state for the current attempt (false when it could not be saved, e.g. fenced out).</summary>
public interface IPlatformStateStore
{
    Task<bool> SaveAsync(PublishJob job, string stateJson, CancellationToken cancellationToken);
}

/// <summary>One social platform. Implementations reconcile first when <see cref="PublishJob.NeedsReconciliation"/>.</summary>
public interface IPlatformPublisher
{
    Platform Platform { get; }

    Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken);
}
