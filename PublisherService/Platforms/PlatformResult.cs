using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms;

/// <summary>What one attempt on a platform came to, with the platform's state for the next attempt.</summary>
public abstract record PlatformResult(string? StateJson);

public sealed record PublishedResult(string PlatformPostId, string? Permalink, string? StateJson) : PlatformResult(StateJson);

/// <summary>
/// A failure of <paramref name="ErrorClass"/>. For <see cref="ErrorClass.Auth"/>, <paramref name="Error"/> says why the
/// platform refused the account; the outcome names the account to reconnect around it.
/// </summary>
public sealed record FailedResult(ErrorClass ErrorClass, string Error, int Code, int? Subcode, DateTimeOffset? RetryAt, string? StateJson)
    : PlatformResult(StateJson);

/// <summary>
/// The platform may or may not have the post; a person decides (never resent blindly), unless the platform reports
/// later on the send named by <paramref name="SendRef"/> (WhatsApp's status webhooks echo it: docs/webhooks.md).
/// </summary>
public sealed record UnconfirmedResult(string Error, string? StateJson, string? SendRef = null) : PlatformResult(StateJson);
