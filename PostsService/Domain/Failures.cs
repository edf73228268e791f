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

/// <summary>The service is shutting down and took no action (UNAVAILABLE; retry on another replica).</summary>
public sealed class ServiceStoppingException() : DomainException("The service is stopping; retry.");
