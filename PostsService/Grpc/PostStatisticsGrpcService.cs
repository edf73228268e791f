using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>Publishing figures over a chosen range, per channel (<see cref="StatisticsStore.CountByChannelAsync"/>).</summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostStatisticsGrpcService(StatisticsStore statistics) : PostStatisticsService.PostStatisticsServiceBase
{
    /// <summary>A longer range would count a workspace's whole history on every call.</summary>
    private static readonly TimeSpan LongestRange = TimeSpan.FromDays(400);

    public override async Task<GetChannelStatisticsResponse> GetChannelStatistics(GetChannelStatisticsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        if (request.StartTime is null)
        {
            violations.Add("start_time", "is required");
        }
        if (request.EndTime is null)
        {
            violations.Add("end_time", "is required");
        }
        violations.ThrowIfAny();
        var (start, end) = (request.StartTime!.ToDateTimeOffset(), request.EndTime!.ToDateTimeOffset());
        if (end <= start)
        {
            violations.Add("end_time", "must be after start_time");
        }
        else if (end - start > LongestRange)
        {
            violations.Add("end_time", $"must be at most {LongestRange.TotalDays:0} days after start_time");
        }
        violations.ThrowIfAny();
        return new GetChannelStatisticsResponse
        {
            Channels = { await statistics.CountByChannelAsync(context.UserId(), start, end, context.CancellationToken) },
        };
    }
}
