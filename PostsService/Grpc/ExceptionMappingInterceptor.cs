using Grpc.Core;
using Grpc.Core.Interceptors;
using Npgsql;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Maps the failures a handler cannot know in advance to precise statuses; anything else becomes INTERNAL with a
/// plain sentence, never a stack trace.
/// </summary>
public sealed partial class ExceptionMappingInterceptor(ILogger<ExceptionMappingInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (RpcException)
        {
            throw;
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected)
        {
            throw new RpcException(new Status(StatusCode.Aborted, "A concurrent change won; retry the call."));
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, "A referenced resource no longer exists."));
        }
        catch (NpgsqlException ex)
        {
            LogDatabaseUnavailable(context.Method, ex);
            throw new RpcException(new Status(StatusCode.Unavailable, "The database is unavailable; retry shortly."));
        }
        catch (Exception ex)
        {
            LogUnexpected(context.Method, ex);
            throw new RpcException(new Status(StatusCode.Internal, "An internal error occurred."));
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Database unavailable during {Method}")]
    private partial void LogDatabaseUnavailable(string method, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "Unexpected failure in {Method}")]
    private partial void LogUnexpected(string method, Exception exception);
}
