using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Scheduler.V1;
using SocialSync.SchedulerService.Scheduling;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.SchedulerService.Grpc;

[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed class SchedulerGrpcService(DispatchIndex index, SafetyNet safetyNet, SchedulerState state) : Scheduler.V1.SchedulerService.SchedulerServiceBase
{
    public override async Task<IndexStatus> GetIndexStatus(GetIndexStatusRequest request, ServerCallContext context)
    {
        var earliest = await index.EarliestAsync(index.Keys.AllShards);
        return new IndexStatus
        {
            IndexedPosts = await index.CountAsync(),
            NextDueAt = earliest is { } e ? Timestamp.FromDateTimeOffset(e) : null,
            LastDispatchAt = state.LastDispatchAt is { } d ? Timestamp.FromDateTimeOffset(d) : null,
            DispatchedTotal = state.Dispatched,
            InstanceId = state.InstanceId,
        };
    }

    public override async Task<RebuildIndexResponse> RebuildIndex(RebuildIndexRequest request, ServerCallContext context)
    {
        await index.ClearAsync();
        return new RebuildIndexResponse { IndexedPosts = await safetyNet.RebuildAsync(index.Keys.AllShards, context.CancellationToken) ?? 0 };
    }
}
