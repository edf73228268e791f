using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal API of delivery statuses, for PublisherService only (a service credential, like
/// <see cref="PostsInternalGrpcService"/>): parses the statuses it forwards from Meta's webhooks and records them
/// (<see cref="DeliveryStore"/>), on the owner pool.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed partial class DeliveriesInternalGrpcService(DeliveryStore deliveries, TimeProvider time, ILogger<DeliveriesInternalGrpcService> log)
    : DeliveriesInternalService.DeliveriesInternalServiceBase
{
    public override async Task<RecordDeliveryStatusesResponse> RecordDeliveryStatuses(RecordDeliveryStatusesRequest request, ServerCallContext context)
    {
        var reports = Parse(request);
        var response = new RecordDeliveryStatusesResponse();
        if (reports.Count == 0)
        {
            return response;
        }
        var recording = await deliveries.RecordAsync(reports, context.CancellationToken);
        response.Recorded = recording.Recorded;
        response.ConfirmedPostIds.AddRange(recording.ConfirmedPostIds.Select(id => id.ToString()));
        foreach (var id in recording.ConfirmedPostIds)
        {
            LogConfirmed(id);
        }
        return response;
    }

    private List<DeliveryReport> Parse(RecordDeliveryStatusesRequest request)
    {
        var violations = new FieldViolations();
        var reports = new List<DeliveryReport>(request.Statuses.Count);
        var now = time.GetUtcNow();
        for (var i = 0; i < request.Statuses.Count; i++)
        {
            var status = request.Statuses[i];
            var at = $"statuses[{i}]";
            var postId = RequestFields.ParseId(status.PostId, $"{at}.post_id", violations) ?? Guid.Empty;
            if (status.Attempt <= 0)
            {
                violations.Add($"{at}.attempt", "must be positive");
            }
            if (string.IsNullOrEmpty(status.Wamid))
            {
                violations.Add($"{at}.wamid", "is required");
            }
            if (string.IsNullOrEmpty(status.CallbackRef))
            {
                violations.Add($"{at}.callback_ref", "is required");
            }
            if (DeliveryRules.ToDb(status.State) is not { } state)
            {
                violations.Add($"{at}.state", "must be SENT, DELIVERED, READ or FAILED");
                continue;
            }
            reports.Add(new DeliveryReport(postId, status.Attempt, status.CallbackRef, status.Wamid, status.RecipientId, state,
                status.StatusTime?.ToDateTimeOffset() ?? now, status.ErrorCode == 0 ? null : status.ErrorCode,
                ProtoStrings.NullIfUnset(status.ErrorTitle)));
        }
        violations.ThrowIfAny();
        return reports;
    }

    [LoggerMessage(1, LogLevel.Information, "Post {PostId}: the send whose answer was lost was reported by WhatsApp; published")]
    private partial void LogConfirmed(Guid postId);
}
