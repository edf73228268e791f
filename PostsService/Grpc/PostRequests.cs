using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Parses the post API's requests into what the domain and the stores take, checking everything that needs no
/// database; every bad field is named (one INVALID_ARGUMENT for all of them).
/// </summary>
public static class PostRequests
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 100;

    /// <summary>One create; its fields are named under <paramref name="prefix"/> (e.g. "requests[3].").</summary>
    public static NewPost ParseCreate(CreatePostRequest request, string prefix, DateTimeOffset now, FieldViolations violations)
    {
        var channelId = RequestFields.ParseId(request.ChannelId, prefix + "channel_id", violations);
        ContentRules.CheckShape(request.Content, prefix + "content", violations);
        var publishAt = RequestFields.ParseTime(request.PublishAt, prefix + "publish_at", violations);
        PublishWindow.Check(publishAt, now, prefix + "publish_at", violations);
        if (request.RequestId.Length > 64)
        {
            violations.Add(prefix + "request_id", "must be at most 64 characters");
        }
        ChannelSettingsRules.CheckRecipients(request.Recipients, prefix + "recipients", violations);
        if (request.ValidateOnly && prefix.Length > 0)
        {
            // Only CreatePost itself stops before writing; a create inside a batch or a template's create would be written.
            violations.Add(prefix + "validate_only", "is for CreatePost only");
        }
        var timeZone = Recurrence.NormalizeTimeZone(request.TimeZone, prefix + "time_zone", violations);
        var rrule = Recurrence.NormalizeRule(request.Rrule, prefix + "rrule", violations);
        if (rrule is not null && publishAt is { } first && !violations.Any)
        {
            Recurrence.CheckEvaluates(rrule, timeZone, first, prefix + "rrule", violations);
        }
        return new NewPost(request, prefix, channelId ?? Guid.Empty, publishAt ?? default, timeZone, rrule);
    }

    /// <summary>
    /// A batch of creates (1 to <paramref name="maxBatch"/>, request_ids distinct), all stamped with <paramref name="traceparent"/>.
    /// A larger batch is INVALID_ARGUMENT naming <c>requests</c>: no wait would make it pass, so it is not a rate limit.
    /// </summary>
    public static List<NewPost> ParseBatchCreate(BatchCreatePostsRequest request, int maxBatch, DateTimeOffset now, string? traceparent)
    {
        var violations = new FieldViolations();
        if (request.Requests.Count == 0 || request.Requests.Count > maxBatch)
        {
            violations.Add("requests", $"must hold 1 to {maxBatch} posts");
            violations.ThrowIfAny();
        }
        var parsed = request.Requests.Select((r, i) => ParseCreate(r, $"requests[{i}].", now, violations) with { Traceparent = traceparent }).ToList();
        var requestIds = request.Requests.Where(r => r.RequestId.Length > 0).Select(r => r.RequestId).ToList();
        if (requestIds.Count != requestIds.Distinct(StringComparer.Ordinal).Count())
        {
            violations.Add("requests", "two posts of one batch carry the same request_id");
        }
        violations.ThrowIfAny();
        return parsed;
    }

    /// <summary>An UpdatePost request: the fields it changes (by mask, or those it carries), each checked on its own.</summary>
    public static PostEdit ParseEdit(UpdatePostRequest request, DateTimeOffset now)
    {
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, PostEdit.Updatable, field => field switch
        {
            "content" => request.Content is not null,
            "publish_at" => request.PublishAt is not null,
            "time_zone" => request.TimeZone.Length > 0,
            "rrule" => request.Rrule.Length > 0,
            "recipients" => request.Recipients.Count > 0,
            _ => false,
        }, violations);
        if (paths.Contains("content"))
        {
            ContentRules.CheckShape(request.Content, "content", violations);
        }
        if (paths.Contains("recipients"))
        {
            ChannelSettingsRules.CheckRecipients(request.Recipients, "recipients", violations);
        }
        DateTimeOffset? publishAt = null;
        if (paths.Contains("publish_at"))
        {
            publishAt = RequestFields.ParseTime(request.PublishAt, "publish_at", violations);
            PublishWindow.Check(publishAt, now, "publish_at", violations);
        }
        var timeZone = paths.Contains("time_zone") ? Recurrence.NormalizeTimeZone(request.TimeZone, "time_zone", violations) : null;
        var rule = paths.Contains("rrule") ? Recurrence.NormalizeRule(request.Rrule, "rrule", violations) : null;
        violations.ThrowIfAny();
        return new PostEdit(id!.Value, etag, paths, request.Content, publishAt, timeZone, rule, now) { Recipients = [.. request.Recipients] };
    }

    /// <summary>
    /// A ListPosts request: its filters, the page to read (after a page token's position, or from the start and an
    /// offset), and the count a page token carries from its first page. <c>page_size</c> follows AIP-158 (0
    /// means the default); the original REST contract's <c>limit</c> is 1-100 when given, so <paramref name="limitSent"/>
    /// (a REST query that names it) makes an explicit 0 a bad value.
    /// </summary>
    public static (PostFilter Filter, PostPageRequest Page, int? TokenTotal) ParseList(ListPostsRequest request, bool limitSent = false)
    {
        var violations = new FieldViolations();
        var status = ParseFilter(request.Status, "status", Vocabulary.ToPostStatus,
            "must be one of queued, publishing, published, failed, cancelled, missed, unconfirmed",
            request.StatusFilter, "status_filter", violations);
        var platform = ParseFilter(request.Platform, "platform", Vocabulary.ToPlatform, "must be whatsapp or instagram",
            request.PlatformFilter, "platform_filter", violations);
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations, required: false);
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var pageSize = request.PageSize != 0
            ? RequestFields.ParseLimit(request.PageSize, sent: true, DefaultPageSize, MaxPageSize, "page_size", violations)
            : RequestFields.ParseLimit(request.Limit, limitSent, DefaultPageSize, MaxPageSize, "limit", violations);
        if (request.Offset < 0)
        {
            violations.Add("offset", "must not be negative");
        }
        // A page token wins over an offset: the original REST contract's ?offset= reads from the start.
        var (after, tokenTotal) = PostPageTokens.Parse(request, violations);
        var from = request.PublishTimeStart?.ToDateTimeOffset();
        var before = request.PublishTimeEnd?.ToDateTimeOffset();
        if (from is { } start && before is { } end && start >= end)
        {
            violations.Add("publish_time_end", "must be after publish_time_start");
        }
        violations.ThrowIfAny();
        var filter = new PostFilter(status, platform, channelId) { WorkspaceId = workspaceId, PublishFrom = from, PublishBefore = before };
        var page = after is null
            ? new PostPageRequest(pageSize, Offset: request.Offset, CountTotal: true)
            : new PostPageRequest(pageSize, After: after);
        return (filter, page, tokenTotal);
    }

    /// <summary>A list filter given either as a word of the original REST contract (?status=queued) or as the proto enum.</summary>
    private static T? ParseFilter<T>(string word, string wordField, Func<string, T> fromWord, string allowedWords,
        T value, string valueField, FieldViolations violations) where T : struct, System.Enum
    {
        if (!string.IsNullOrEmpty(word))
        {
            var parsed = fromWord(word.ToLowerInvariant());
            if (parsed.Equals(default(T)))
            {
                violations.Add(wordField, allowedWords);
                return null;
            }
            return parsed;
        }
        if (value.Equals(default(T)))
        {
            return null;
        }
        if (!System.Enum.IsDefined(value))
        {
            violations.Add(valueField, "is not a known value");
            return null;
        }
        return value;
    }

    /// <summary>The monitoring figures from the per-platform counts of <see cref="StatisticsStore"/>.</summary>
    public static PostStatistics ToStatistics(IReadOnlyList<PlatformCounts> platforms)
    {
        var statistics = new PostStatistics();
        foreach (var p in platforms)
        {
            statistics.Total += p.Total;
            statistics.Queued += p.Queued;
            statistics.Publishing += p.Publishing;
            statistics.Published += p.Published;
            statistics.Failed += p.Failed;
            statistics.Cancelled += p.Cancelled;
            statistics.Missed += p.Missed;
            statistics.Unconfirmed += p.Unconfirmed;
            statistics.Platforms.Add(new PlatformStatistics
            {
                Platform = p.Platform,
                Total = p.Total,
                Queued = p.Queued,
                Published = p.Published,
                Failed = p.Failed,
                SuccessRate24H = Ratio(p.FinishedPublished, p.Finished),
            });
        }
        var finished = platforms.Sum(p => p.Finished);
        var delays = platforms.Sum(p => p.Delays);
        statistics.Finished24H = finished;
        statistics.SuccessRate24H = Ratio(platforms.Sum(p => p.FinishedPublished), finished);
        statistics.RetryRate24H = Ratio(platforms.Sum(p => p.FinishedRetried), finished);
        statistics.MeanPublishDelaySeconds24H = delays == 0 ? 0 : platforms.Sum(p => p.DelaySeconds) / delays;
        return statistics;
    }

    private static double Ratio(long part, long whole) => whole == 0 ? 0 : (double)part / whole;
}
