using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Npgsql;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The one place failures become gRPC statuses (AIP-193): the domain's refusals (<see cref="DomainException"/>) by
/// kind, and the failures a handler cannot know in advance (a lost serialization race, PostgreSQL down) by cause;
/// anything else becomes INTERNAL with a plain sentence, never a stack trace.
/// </summary>
public sealed partial class ExceptionMappingInterceptor(ILogger<ExceptionMappingInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var response = default(TResponse)!;
        await MapFailuresAsync(context, async () => response = await continuation(request, context));
        return response;
    }

    /// <summary>A stream (WatchPosts) fails the same way, whether before its first message or after.</summary>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        MapFailuresAsync(context, () => continuation(request, responseStream, context));

    private async Task MapFailuresAsync(ServerCallContext context, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException)
        {
            throw;
        }
        catch (RateLimitExceededException ex)
        {
            // An HTTP header, so every protocol carries it: gRPC and grpc-web in their trailers-only answer (the
            // handler wrote nothing yet), REST beside its 429.
            context.GetHttpContext().Response.Headers.RetryAfter = ex.RetryAfterSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw ToRpcException(ex);
        }
        catch (DomainException ex)
        {
            throw ToRpcException(ex);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Aborted, "A concurrent change won; retry the call."));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, "A referenced resource no longer exists."));
        }
        catch (NpgsqlException ex)
        {
            LogDatabaseUnavailable(context.Method, ex);
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Unavailable, "The database is unavailable; retry shortly."));
        }
        catch (Exception ex)
        {
            LogUnexpected(context.Method, ex);
            throw new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, "An internal error occurred."));
        }
    }

    /// <summary>The status of a domain refusal; an invalid request carries a google.rpc.BadRequest naming each bad field.</summary>
    public static RpcException ToRpcException(DomainException exception) => exception switch
    {
        InvalidRequestException invalid => BadRequest(invalid),
        NotFoundException => Plain(StatusCode.NotFound, exception),
        RoleRequiredException => Plain(StatusCode.PermissionDenied, exception),
        ActionForbiddenException => Plain(StatusCode.PermissionDenied, exception),
        FailedPreconditionException => Plain(StatusCode.FailedPrecondition, exception),
        ConcurrentChangeException => Plain(StatusCode.Aborted, exception),
        RequestIdReusedException reused => RequestIdReused(reused),
        ServiceStoppingException => Plain(StatusCode.Unavailable, exception),
        RateLimitExceededException limited => RateLimited(limited),
        _ => new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, "An internal error occurred.")),
    };

    private static RpcException Plain(StatusCode code, DomainException exception) =>
        new(new global::Grpc.Core.Status(code, exception.Message));

    /// <summary>ALREADY_EXISTS, with a google.rpc.ErrorInfo naming the request_id field and what was made under it (post_id or experiment_id).</summary>
    private static RpcException RequestIdReused(RequestIdReusedException reused)
    {
        var info = new ErrorInfo
        {
            Reason = "REQUEST_ID_REUSED",
            Domain = "posts.socialsync",
            Metadata = { ["field"] = reused.Field, ["request_id"] = reused.RequestId, [reused.Resource + "_id"] = reused.ResourceId },
        };
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.AlreadyExists,
            Message = reused.Message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(info) },
        };
        return status.ToRpcException();
    }

    /// <summary>
    /// RESOURCE_EXHAUSTED, with a google.rpc.RetryInfo (when the same call would pass) and a google.rpc.ErrorInfo
    /// naming the limit's setting.
    /// </summary>
    private static RpcException RateLimited(RateLimitExceededException limited)
    {
        var retry = new RetryInfo { RetryDelay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(limited.RetryAfterSeconds())) };
        var info = new ErrorInfo
        {
            Reason = "RATE_LIMIT_EXCEEDED",
            Domain = "posts.socialsync",
            Metadata = { ["setting"] = limited.Setting },
        };
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.ResourceExhausted,
            Message = limited.Message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(retry), Google.Protobuf.WellKnownTypes.Any.Pack(info) },
        };
        return status.ToRpcException();
    }

    private static RpcException BadRequest(InvalidRequestException invalid)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(invalid.Violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = invalid.Message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    [LoggerMessage(1, LogLevel.Warning, "Database unavailable during {Method}")]
    private partial void LogDatabaseUnavailable(string method, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "Unexpected failure in {Method}")]
    private partial void LogUnexpected(string method, Exception exception);
}
