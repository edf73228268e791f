namespace SocialSync.PostsService.Domain;

/// <summary>
/// A request PostsService refuses, for a reason of its own rules. Stores and domain code throw these; one place
/// (Grpc/ExceptionMappingInterceptor) turns each kind into its gRPC status, with the message as its detail.
/// </summary>
public abstract class DomainException(string message) : Exception(message);

/// <summary>Fields of the request are invalid; each is named (INVALID_ARGUMENT with its field violations).</summary>
public sealed class InvalidRequestException(IReadOnlyList<FieldViolation> violations)
    : DomainException(string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")))
{
    public IReadOnlyList<FieldViolation> Violations { get; } = violations;
}

/// <summary>The resource does not exist, or is another user's, so that its existence does not leak (NOT_FOUND).</summary>
public sealed class NotFoundException(string resource, string id) : DomainException($"{resource} '{id}' was not found.");

/// <summary>
/// The caller is a member of the resource's workspace, but their role does not allow the action (PERMISSION_DENIED,
/// naming the role it needs).
/// </summary>
public sealed class RoleRequiredException(string action, Posts.V1.WorkspaceRole needed, Posts.V1.WorkspaceRole held)
    : DomainException($"To {action} needs the {needed.ToDb()} role (or higher) in this workspace; the caller is {held.ToDb()}.")
{
    public Posts.V1.WorkspaceRole Needed { get; } = needed;
}

/// <summary>A rule of the workspace forbids the caller this action whatever their role, e.g. approving their own post (PERMISSION_DENIED).</summary>
public sealed class ActionForbiddenException(string message) : DomainException(message);

/// <summary>
/// The resource's state does not allow the change: an illegal lifecycle transition (see <see cref="PostLifecycle"/>),
/// an attempt that is no longer the current claim, a deleted channel (FAILED_PRECONDITION).
/// </summary>
public sealed class FailedPreconditionException(string message) : DomainException(message);

/// <summary>A concurrent change won: the caller's etag is stale, or the same create is in flight (ABORTED; retry).</summary>
public sealed class ConcurrentChangeException(string message) : DomainException(message)
{
    public static ConcurrentChangeException StaleEtag(string resource) =>
        new($"The {resource} changed since this etag was read; get it again and retry.");

    public static ConcurrentChangeException RepeatInFlight() =>
        new("A concurrent create with the same request_id is in progress; retry.");
}

/// <summary>
/// A request_id that an earlier create of the caller's used with a different request (ALREADY_EXISTS: a post or an
/// experiment was already made under it). A retry of the same request gets the first result instead; a new one needs
/// a new request_id. <see cref="Field"/> names the request_id (e.g. "requests[3].request_id").
/// </summary>
public sealed class RequestIdReusedException(string field, string requestId, string resourceId, string resource = "post")
    : DomainException($"{field} '{requestId}' was used by an earlier create with a different request ({resource} '{resourceId}'); " +
        $"a retry must repeat that request exactly, and a new {resource} needs a new request_id.")
{
    public string Field { get; } = field;
    public string RequestId { get; } = requestId;

    /// <summary>What the earlier create made: "post" or "experiment".</summary>
    public string Resource { get; } = resource;

    /// <summary>The id of what the earlier create made.</summary>
    public string ResourceId { get; } = resourceId;
}

/// <summary>The service is shutting down and took no action (UNAVAILABLE; retry on another replica).</summary>
public sealed class ServiceStoppingException() : DomainException("The service is stopping; retry.");

/// <summary>
/// The caller used up one of its per-user limits (RESOURCE_EXHAUSTED, REST 429): the same call passes after
/// <see cref="RetryAfter"/>. <see cref="Setting"/> names the limit (e.g. "RateLimits:CreatesPerPeriod").
/// </summary>
public sealed class RateLimitExceededException(string setting, TimeSpan retryAfter)
    : DomainException($"Too many requests from this user ({setting}); retry after {RetryAfterSeconds(retryAfter)} s.")
{
    public string Setting { get; } = setting;
    public TimeSpan RetryAfter { get; } = retryAfter;

    /// <summary>The wait in whole seconds, rounded up and at least 1 (what an HTTP Retry-After carries).</summary>
    public int RetryAfterSeconds() => RetryAfterSeconds(RetryAfter);

    private static int RetryAfterSeconds(TimeSpan wait) => (int)Math.Clamp(Math.Ceiling(wait.TotalSeconds), 1, int.MaxValue);
}
