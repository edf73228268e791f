using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal API of insights, for PublisherService only (a service credential, like <see cref="PostsInternalGrpcService"/>):
/// which posts and channels to measure next, and the measurements (<see cref="InsightsStore"/>), on the owner pool.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed class InsightsInternalGrpcService(InsightsStore insights, TimeProvider time) : InsightsInternalService.InsightsInternalServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public override async Task<ListInsightsDueResponse> ListInsightsDue(ListInsightsDueRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        if (pageSize is < 1 or > MaxPageSize)
        {
            var violations = new FieldViolations();
            violations.Add("page_size", $"must be between 1 and {MaxPageSize}");
            violations.ThrowIfAny();
        }
        var (posts, channels) = await insights.ListDueAsync(time.GetUtcNow(), pageSize, context.CancellationToken);
        var response = new ListInsightsDueResponse();
        response.Posts.AddRange(posts.Select(p => new InsightsDuePost
        {
            PostId = p.PostId.ToString(),
            ChannelId = p.ChannelId.ToString(),
            AccountId = p.AccountId,
            AccessToken = p.AccessToken,
            MediaId = p.MediaId,
            Snapshot = p.Snapshot,
        }));
        response.Channels.AddRange(channels.Select(c => new InsightsDueChannel
        {
            ChannelId = c.ChannelId.ToString(),
            AccountId = c.AccountId,
            AccessToken = c.AccessToken,
        }));
        return response;
    }

    public override async Task<RecordEngagementSnapshotsResponse> RecordEngagementSnapshots(RecordEngagementSnapshotsRequest request,
        ServerCallContext context)
    {
        var violations = new FieldViolations();
        var reports = new List<SnapshotReport>(request.Snapshots.Count);
        var now = time.GetUtcNow();
        for (var i = 0; i < request.Snapshots.Count; i++)
        {
            var snapshot = request.Snapshots[i];
            var postId = RequestFields.ParseId(snapshot.PostId, $"snapshots[{i}].post_id", violations) ?? Guid.Empty;
            if (snapshot.Snapshot <= 0)
            {
                violations.Add($"snapshots[{i}].snapshot", "must be positive");
            }
            if (snapshot.Metrics.Count == 0 && snapshot.Error.Length == 0)
            {
                violations.Add($"snapshots[{i}].metrics", "are required unless error says why there are none");
            }
            reports.Add(new SnapshotReport(postId, snapshot.Snapshot, snapshot.MediaPublishTime?.ToDateTimeOffset(),
                snapshot.MeasureTime?.ToDateTimeOffset() ?? now, snapshot.Metrics, ProtoStrings.NullIfUnset(snapshot.Error)));
        }
        violations.ThrowIfAny();
        return new RecordEngagementSnapshotsResponse { Recorded = await insights.RecordSnapshotsAsync(reports, context.CancellationToken) };
    }

    public override async Task<RecordOnlineFollowersResponse> RecordOnlineFollowers(RecordOnlineFollowersRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations) ?? Guid.Empty;
        if (request.ByUtcHour.Count != 24)
        {
            violations.Add("by_utc_hour", "must hold 24 values, one per UTC hour");
        }
        violations.ThrowIfAny();
        var recorded = await insights.RecordOnlineFollowersAsync(channelId, request.MeasureTime?.ToDateTimeOffset() ?? time.GetUtcNow(),
            request.ByUtcHour.ToArray(), context.CancellationToken);
        return new RecordOnlineFollowersResponse { Recorded = recorded };
    }
}
