using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Engagement and the best times to publish (docs/insights.md), for any member of the workspace of the channel or post
/// (<see cref="EngagementStore"/> reads as the caller); another workspace's channel or post is NOT_FOUND.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class InsightsGrpcService(EngagementStore engagement, TimeProvider time) : InsightsService.InsightsServiceBase
{
    public override async Task<SuggestPublishTimesResponse> SuggestPublishTimes(SuggestPublishTimesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations) ?? Guid.Empty;
        var count = request.N == 0 ? PublishTimeSuggestions.DefaultCount : request.N;
        if (count is < 1 or > PublishTimeSuggestions.MaxCount)
        {
            violations.Add("n", $"must be between 1 and {PublishTimeSuggestions.MaxCount} (0 means {PublishTimeSuggestions.DefaultCount})");
        }
        TimeZoneInfo? zone = null;
        if (request.TimeZone.Length > 0 && !(TimeZoneInfo.TryFindSystemTimeZoneById(request.TimeZone, out zone) && zone.HasIanaId))
        {
            violations.Add("time_zone", "must be an IANA time zone such as Europe/Paris");
        }
        violations.ThrowIfAny();

        var now = time.GetUtcNow();
        var inputs = await engagement.LoadSuggestionInputsAsync(context.UserId(), channelId, zone, now, context.CancellationToken)
            ?? throw new NotFoundException("channel", request.ChannelId);
        var suggestions = PublishTimeSuggestions.Suggest(inputs, now, count);
        var response = new SuggestPublishTimesResponse
        {
            Source = suggestions.Source,
            TimeZone = inputs.Zone.Id,
            MeanRate = suggestions.MeanRate,
            PostsMeasured = suggestions.PostsMeasured,
        };
        response.Slots.AddRange(suggestions.Slots.Select(s => new SuggestedSlot
        {
            StartTime = Timestamp.FromDateTimeOffset(s.Start),
            Weekday = WeeklySlot.IsoWeekday(s.Day),
            Hour = s.Hour,
            Score = s.Score,
            SampleSize = s.SampleSize,
        }));
        return response;
    }

    public override async Task<PostEngagement> GetPostEngagement(GetPostEngagementRequest request, ServerCallContext context)
    {
        var postId = RequestFields.RequireId(request.PostId, "post_id");
        var (platform, metrics) = await engagement.GetPostEngagementAsync(context.UserId(), postId, context.CancellationToken)
            ?? throw new NotFoundException("post", request.PostId);
        var response = new PostEngagement { PostId = postId.ToString() };
        response.Metrics.AddRange(metrics.Select(m => new EngagementMetric
        {
            Name = m.Name,
            Value = m.Value,
            MeasureTime = Timestamp.FromDateTimeOffset(m.MeasuredAt),
        }));
        var byName = metrics.ToDictionary(m => m.Name, m => m.Value);
        var (numerator, denominator) = platform == Platform.Instagram ? ("total_interactions", "reach") : ("read", "messages");
        if (byName.TryGetValue(numerator, out var part) && byName.TryGetValue(denominator, out var whole) && whole > 0)
        {
            response.EngagementRate = (double)part / whole;
        }
        return response;
    }

    public override async Task<EngagementStatistics> GetEngagementStatistics(GetEngagementStatisticsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations, required: false);
        if (request.StartTime is null)
        {
            violations.Add("start_time", "is required");
        }
        if (request.EndTime is null)
        {
            violations.Add("end_time", "is required");
        }
        else if (request.StartTime is not null
            && request.EndTime.ToDateTimeOffset() - request.StartTime.ToDateTimeOffset() is var range && (range <= TimeSpan.Zero || range > MaxStatisticsRange))
        {
            violations.Add("end_time", $"must be after start_time, by at most {MaxStatisticsRange.TotalDays} days");
        }
        violations.ThrowIfAny();
        var platforms = await engagement.StatisticsAsync(context.UserId(), workspaceId, channelId, request.StartTime!.ToDateTimeOffset(),
            request.EndTime!.ToDateTimeOffset(), context.CancellationToken);
        return new EngagementStatistics { Platforms = { platforms } };
    }

    private static readonly TimeSpan MaxStatisticsRange = TimeSpan.FromDays(92);
}
