using System.Diagnostics;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// What happened to a post after it was sent (<see cref="PostDeliveryStore"/>), for the studio's post detail. Any
/// member of the post's workspace reads it; another workspace's post is NOT_FOUND.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostDeliveryGrpcService(PostDeliveryStore deliveries) : PostDeliveryService.PostDeliveryServiceBase
{
    public override async Task<ListPostDeliveriesResponse> ListPostDeliveries(ListPostDeliveriesRequest request, ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        var found = await deliveries.ListAsync(context.UserId(), id, context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
        return new ListPostDeliveriesResponse { Deliveries = { found } };
    }

    public override async Task<PostTrace> GetPostTrace(GetPostTraceRequest request, ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        var traceparent = await deliveries.ReadTraceparentAsync(context.UserId(), id, context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
        return ActivityContext.TryParse(traceparent, null, out var trace)
            ? new PostTrace { TraceId = trace.TraceId.ToHexString(), SpanId = trace.SpanId.ToHexString() }
            : new PostTrace();
    }
}
