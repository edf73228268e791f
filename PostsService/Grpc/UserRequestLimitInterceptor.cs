using Grpc.Core;
using Grpc.Core.Interceptors;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Takes one call from the caller's request bucket (<see cref="UserRateLimits"/>) before a public handler runs. It
/// runs inside the gRPC pipeline, which gRPC, grpc-web and REST (JSON transcoding) calls all pass through, so each
/// is counted once and refused with RESOURCE_EXHAUSTED through <see cref="ExceptionMappingInterceptor"/> (REST: 429),
/// where an HTTP middleware's plain 429 would reach gRPC clients as UNAVAILABLE. Registered for the public services
/// only: the internal API serves the other services, not users.
/// </summary>
public sealed class UserRequestLimitInterceptor(UserRateLimits limits) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        limits.TakeRequest(context.UserId());
        return continuation(request, context);
    }

    /// <summary>A stream (WatchPosts) takes one call when it opens, however long it then runs.</summary>
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        limits.TakeRequest(context.UserId());
        return continuation(request, responseStream, context);
    }
}
