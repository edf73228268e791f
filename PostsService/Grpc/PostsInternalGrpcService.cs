using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal API, for the other services only: its RPCs are served by one handler per caller,
/// <see cref="SchedulerRpcHandler"/> and <see cref="PublisherRpcHandler"/> (with <see cref="ChannelTokenRpcHandler"/> for the
/// publisher's token refresher). They run on the owner pool (not under
/// row-level security) and every state change is guarded in SQL: a claim only moves queued posts, and every later
/// change must name the claim's attempt number, so a fenced-out worker can never overwrite a newer attempt.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed class PostsInternalGrpcService(SchedulerRpcHandler scheduler, PublisherRpcHandler publisher, ChannelTokenRpcHandler tokens)
    : PostsInternalService.PostsInternalServiceBase
{
    public override Task<PullScheduleChangesResponse> PullScheduleChanges(PullScheduleChangesRequest request, ServerCallContext context) =>
        scheduler.PullScheduleChanges(request, context);

    public override Task<ListQueuedPostsResponse> ListQueuedPosts(ListQueuedPostsRequest request, ServerCallContext context) =>
        scheduler.ListQueuedPosts(request, context);

    public override Task<ClaimDuePostsResponse> ClaimDuePosts(ClaimDuePostsRequest request, ServerCallContext context) =>
        scheduler.ClaimDuePosts(request, context);

    public override Task<RecoverExpiredLeasesResponse> RecoverExpiredLeases(RecoverExpiredLeasesRequest request, ServerCallContext context) =>
        scheduler.RecoverExpiredLeases(request, context);

    public override Task<ReleaseClaimsResponse> ReleaseClaims(ReleaseClaimsRequest request, ServerCallContext context) =>
        scheduler.ReleaseClaims(request, context);

    public override Task<StartRunsResponse> StartRuns(StartRunsRequest request, ServerCallContext context) =>
        publisher.StartRuns(request, context);

    public override Task<ReportOutcomesResponse> ReportOutcomes(ReportOutcomesRequest request, ServerCallContext context) =>
        publisher.ReportOutcomes(request, context);

    public override Task<SavePlatformStateResponse> SavePlatformState(SavePlatformStateRequest request, ServerCallContext context) =>
        publisher.SavePlatformState(request, context);

    public override Task<ListExpiringTokensResponse> ListExpiringTokens(ListExpiringTokensRequest request, ServerCallContext context) =>
        tokens.ListExpiringTokens(request, context);

    public override Task<SaveRefreshedTokenResponse> SaveRefreshedToken(SaveRefreshedTokenRequest request, ServerCallContext context) =>
        tokens.SaveRefreshedToken(request, context);

    public override Task<MarkTokenExpiringResponse> MarkTokenExpiring(MarkTokenExpiringRequest request, ServerCallContext context) =>
        tokens.MarkTokenExpiring(request, context);
}
