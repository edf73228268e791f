using SocialSync.Contracts;
namespace SocialSync.PublisherService.Platforms.Meta;

/// <summary>A failed Graph API call, classified.</summary>
public sealed class GraphApiException(ErrorClass errorClass, string message, int code = 0, int? subcode = null, DateTimeOffset? retryAt = null)
    : Exception(message)
{
    public ErrorClass ErrorClass { get; } = errorClass;
    public int Code { get; } = code;
    public int? Subcode { get; } = subcode;
    public DateTimeOffset? RetryAt { get; } = retryAt;

    /// <summary>The attempt's failure; an auth error says that Meta refused the account.</summary>
    public FailedResult ToFailedResult(string? stateJson) =>
        new(ErrorClass, ErrorClass == ErrorClass.Auth ? $"Meta rejected its access or permissions ({Message})" : Message,
            Code, Subcode, RetryAt, stateJson);
}

/// <summary>A POST whose fate is unknown: the request may have been applied but no answer came back.</summary>
public sealed class AmbiguousRequestException(string message, Exception inner) : Exception(message, inner);
