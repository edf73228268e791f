using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Planning (issue 16): posting schedules and their queue (<see cref="QueueStore"/>), and previews of recurring
/// series (<see cref="Recurrence"/>). A channel the caller cannot see is NOT_FOUND, as everywhere.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class QueueGrpcService(QueueStore queue, ScheduleChangeNotifier scheduleChanges, TimeProvider time, PostsMetrics metrics,
    UserRateLimits limits, PostMediaChecks media) : QueueService.QueueServiceBase
{
    private const int DefaultCount = 10;
    private const int MaxCount = 100;
    private static readonly TimeSpan MaxOccurrenceRange = TimeSpan.FromDays(92);

    public override async Task<PostingSchedule> GetPostingSchedule(GetPostingScheduleRequest request, ServerCallContext context)
    {
        var channelId = RequestFields.RequireId(request.ChannelId, "channel_id");
        var schedule = await queue.GetScheduleAsync(context.UserId(), channelId, context.CancellationToken)
            ?? throw new NotFoundException("posting schedule", request.ChannelId);
        return ToProto(schedule);
    }

    public override async Task<PostingSchedule> UpdatePostingSchedule(UpdatePostingScheduleRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var sent = request.Schedule ?? new PostingSchedule();
        var channelId = RequestFields.ParseId(sent.ChannelId, "schedule.channel_id", violations);
        var zone = Recurrence.NormalizeTimeZone(sent.TimeZone, "schedule.time_zone", violations);
        if (sent.TimeZone.Length == 0)
        {
            violations.Add("schedule.time_zone", "is required: the IANA zone the times are in, e.g. Europe/Paris");
        }
        var slots = PostingSlots.Parse(sent.Slots.Select(s => (s.Weekday, s.TimeOfDay)).ToList(), "schedule.slots", violations);
        violations.ThrowIfAny();
        var saved = await queue.SaveScheduleAsync(context.UserId(), new StoredSchedule(channelId!.Value, zone!, slots, sent.CloseGaps),
            context.CancellationToken) ?? throw new NotFoundException("channel", sent.ChannelId);
        return ToProto(saved);
    }

    /// <summary>Creates a post in the channel's next free slot; it costs one of the user's creates, as CreatePost does.</summary>
    public override async Task<ScheduledPost> AddToQueue(AddToQueueRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        ContentRules.CheckShape(request.Content, "content", violations);
        if (request.RequestId.Length > 64)
        {
            violations.Add("request_id", "must be at most 64 characters");
        }
        ChannelSettingsRules.CheckRecipients(request.Recipients, "recipients", violations);
        violations.ThrowIfAny();
        limits.TakeCreates(userId, 1);

        // The create a queue add stands for has no publish_at of its own, so a retry hashes the same (AIP-155) even
        // though the queue's next free slot has moved on since the first.
        var create = new CreatePostRequest
        {
            ChannelId = request.ChannelId, Content = request.Content, RequestId = request.RequestId, Recipients = { request.Recipients }, Draft = request.Draft,
        };
        var post = new NewPost(create, "", channelId!.Value, default, null, null) { Traceparent = Activity.Current?.Id };
        await media.CheckCreatesAsync(userId, [post], context.CancellationToken);
        var created = await queue.AddAsync(userId, post, request.PublishNext, time.GetUtcNow(), context.CancellationToken);
        scheduleChanges.Pulse();
        metrics.PostCreated(created.Platform);
        return created;
    }

    public override async Task<ScheduledPost> RemoveFromQueue(RemoveFromQueueRequest request, ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        var removed = await queue.RemoveAsync(context.UserId(), id, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
        scheduleChanges.Pulse();
        return removed;
    }

    public override async Task<FindNextSlotsResponse> FindNextSlots(FindNextSlotsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        var count = ParseCount(request.Count, violations);
        violations.ThrowIfAny();
        var slots = await queue.FindNextSlotsAsync(context.UserId(), channelId!.Value, count, time.GetUtcNow(), context.CancellationToken)
            ?? throw new NotFoundException("posting schedule", request.ChannelId);
        return new FindNextSlotsResponse { Slots = { slots.Select(Timestamp.FromDateTimeOffset) } };
    }

    /// <summary>start, then the rule's next occurrences from it, as a series created at start would be published.</summary>
    public override Task<PreviewSeriesResponse> PreviewSeries(PreviewSeriesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var zone = Recurrence.NormalizeTimeZone(request.TimeZone, "time_zone", violations);
        var rule = Recurrence.NormalizeRule(request.Rrule, "rrule", violations);
        if (request.Rrule.Length == 0)
        {
            violations.Add("rrule", "is required: an RFC 5545 recurrence rule such as FREQ=WEEKLY;BYDAY=MO");
        }
        var start = RequestFields.ParseTime(request.Start, "start", violations);
        var count = ParseCount(request.Count, violations);
        if (rule is not null && start is { } first && !violations.Any)
        {
            Recurrence.CheckEvaluates(rule, zone, first, "rrule", violations);
        }
        violations.ThrowIfAny();
        var response = new PreviewSeriesResponse();
        for (DateTimeOffset? at = start; at is { } t && response.Occurrences.Count < count; at = Recurrence.NextOccurrence(rule!, zone, start!.Value, t))
        {
            response.Occurrences.Add(Timestamp.FromDateTimeOffset(t));
        }
        return Task.FromResult(response);
    }

    public override async Task<ListSeriesOccurrencesResponse> ListSeriesOccurrences(ListSeriesOccurrencesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var start = RequestFields.ParseTime(request.StartTime, "start_time", violations);
        var end = RequestFields.ParseTime(request.EndTime, "end_time", violations);
        if (start is { } s && end is { } e && (e <= s || e - s > MaxOccurrenceRange))
        {
            violations.Add("end_time", $"must be after start_time, by at most {MaxOccurrenceRange.TotalDays} days");
        }
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations, required: false);
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        violations.ThrowIfAny();
        var found = await queue.ListOccurrencesAsync(context.UserId(), start!.Value, end!.Value, channelId, workspaceId, context.CancellationToken);
        return new ListSeriesOccurrencesResponse
        {
            Occurrences =
            {
                found.Select(o => new SeriesOccurrence
                {
                    PostId = o.PostId.ToString(), ChannelId = o.ChannelId.ToString(), PublishAt = Timestamp.FromDateTimeOffset(o.PublishAt),
                }),
            },
        };
    }

    private static int ParseCount(int count, FieldViolations violations)
    {
        if (count is < 0 or > MaxCount)
        {
            violations.Add("count", $"must be between 1 and {MaxCount} (0 means {DefaultCount})");
        }
        return count == 0 ? DefaultCount : count;
    }

    private static PostingSchedule ToProto(StoredSchedule schedule) => new()
    {
        ChannelId = schedule.ChannelId.ToString(),
        TimeZone = schedule.TimeZone,
        CloseGaps = schedule.CloseGaps,
        Slots = { schedule.Slots.Select(s => new QueueSlot { Weekday = WeeklySlot.IsoWeekday(s.Day), TimeOfDay = s.Time.ToString("HH\\:mm", System.Globalization.CultureInfo.InvariantCulture) }) },
    };
}
