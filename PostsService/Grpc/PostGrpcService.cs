using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostGrpcService(PostsDatabase database, CreatePostBatcher createBatcher, ScheduleChangeNotifier scheduleChanges, TimeProvider time,
    PostsMetrics metrics)
    : PostService.PostServiceBase
{
    private static readonly TimeSpan PastTolerance = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FarthestFuture = TimeSpan.FromDays(2 * 366);
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 100;

    public override async Task<ScheduledPost> CreatePost(CreatePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var parsed = ParseCreate(request, "", time.GetUtcNow(), violations);
        violations.ThrowIfAny();

        var post = await createBatcher.CreateAsync(userId, parsed with { Traceparent = Activity.Current?.Id }, context.CancellationToken);
        Telemetry.PostTracing.Created(post);
        return post;
    }

    public override async Task<BatchCreatePostsResponse> BatchCreatePosts(BatchCreatePostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        if (request.Requests.Count is 0 or > MaxBatchCreate)
        {
            violations.Add("requests", $"must hold 1 to {MaxBatchCreate} posts");
            violations.ThrowIfAny();
        }
        var now = time.GetUtcNow();
        var traceparent = Activity.Current?.Id;
        var parsed = request.Requests.Select((r, i) => ParseCreate(r, $"requests[{i}].", now, violations) with { Traceparent = traceparent }).ToList();
        var requestIds = request.Requests.Where(r => r.RequestId.Length > 0).Select(r => r.RequestId).ToList();
        if (requestIds.Count != requestIds.Distinct(StringComparer.Ordinal).Count())
        {
            violations.Add("requests", "two posts of one batch carry the same request_id");
        }
        violations.ThrowIfAny();

        var posts = await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channels = (await PostInserts.LoadChannelsAsync(connection, transaction,
                [(userId, parsed.Select(p => p.ChannelId).Distinct().ToArray())], context.CancellationToken))[0];
            foreach (var post in parsed)
            {
                if (PostInserts.CheckChannel(post, channels, violations) is { } notFound)
                {
                    throw notFound;
                }
            }
            violations.ThrowIfAny();
            var created = await PostInserts.InsertAsync(connection, transaction, [(userId, parsed, channels)], context.CancellationToken);
            return created[0].Select(row => row ?? throw ConcurrentChangeException.RepeatInFlight()).ToList();
        }, context.CancellationToken);

        scheduleChanges.Pulse();
        foreach (var post in posts)
        {
            metrics.PostCreated(post.Platform);
        }
        var response = new BatchCreatePostsResponse();
        response.Posts.AddRange(posts);
        return response;
    }

    private const int MaxBatchCreate = 500;

    /// <summary>Checks everything about one create that does not need the database; fields are named under <paramref name="prefix"/>.</summary>
    private static NewPost ParseCreate(CreatePostRequest request, string prefix, DateTimeOffset now, FieldViolations violations)
    {
        var channelId = RequestFields.ParseId(request.ChannelId, prefix + "channel_id", violations);
        ContentRules.CheckShape(request.Content, prefix + "content", violations);
        var publishAt = RequestFields.ParseTime(request.PublishAt, prefix + "publish_at", violations);
        CheckPublishWindow(publishAt, now, prefix + "publish_at", violations);
        if (request.RequestId.Length > 64)
        {
            violations.Add(prefix + "request_id", "must be at most 64 characters");
        }
        var timeZone = Recurrence.NormalizeTimeZone(request.TimeZone, prefix + "time_zone", violations);
        var rrule = Recurrence.NormalizeRule(request.Rrule, prefix + "rrule", violations);
        if (rrule is not null && publishAt is { } first && !violations.Any)
        {
            Recurrence.CheckEvaluates(rrule, timeZone, first, prefix + "rrule", violations);
        }
        return new NewPost(request, prefix, channelId ?? Guid.Empty, publishAt ?? default, timeZone, rrule);
    }

    public override async Task<ScheduledPost> GetPost(GetPostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var id = RequestFields.RequireId(request.Id, "id");
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand($"select {PostRows.Columns} from scheduled_posts where id = @id", connection, transaction);
            query.Parameters.AddWithValue("id", id);
            return await ReadSingleAsync(query, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
        }, context.CancellationToken);
    }

    public override async Task<ListPostsResponse> ListPosts(ListPostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var status = ParseStatusFilter(request, violations);
        var platform = ParsePlatformFilter(request, violations);
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations, required: false);
        var pageSize = request.PageSize != 0 ? request.PageSize : request.Limit != 0 ? request.Limit : DefaultPageSize;
        if (pageSize is < 1 or > MaxPageSize)
        {
            violations.Add(request.PageSize != 0 ? "page_size" : "limit", $"must be between 1 and {MaxPageSize}");
        }
        var offset = request.Offset;
        if (offset < 0)
        {
            violations.Add("offset", "must not be negative");
        }
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            offset = PageTokens.Decode(request.PageToken) ?? -1;
            if (offset < 0)
            {
                violations.Add("page_token", "is not a token this API issued");
            }
        }
        violations.ThrowIfAny();

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No user_id filter here: row-level security limits the rows to the caller's.
            await using var query = new NpgsqlCommand($"""
                select {PostRows.Columns}, count(*) over () from scheduled_posts
                where (@status::text is null or status = @status)
                  and (@platform::text is null or platform = @platform)
                  and (@channel::uuid is null or channel_id = @channel)
                order by publish_at desc, id
                limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)status?.ToDb() ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("platform", NpgsqlDbType.Text) { Value = (object?)platform?.ToDb() ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Uuid) { Value = (object?)channelId ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            var response = new ListPostsResponse();
            await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                response.TotalSize = (int)reader.GetInt64(PostRows.ColumnCount);
                if (response.Posts.Count == pageSize)
                {
                    response.NextPageToken = PageTokens.Encode(offset + pageSize);
                    break;
                }
                response.Posts.Add(PostRows.Read(reader));
            }
            return response;
        }, context.CancellationToken);
    }

    public override async Task<ScheduledPost> CancelPost(CancelPostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var cancel = new NpgsqlCommand($"""
                update scheduled_posts set status = 'cancelled', lease_expires_at = null
                where id = @id and status in ('queued', 'failed', 'missed', 'unconfirmed')
                  and (@etag::int is null or version = @etag)
                returning {PostRows.Columns}
                """, connection, transaction);
            cancel.Parameters.AddWithValue("id", id);
            cancel.Parameters.Add(new NpgsqlParameter("etag", NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
            var cancelled = await ReadSingleAsync(cancel, context.CancellationToken);
            if (cancelled is not null)
            {
                return cancelled;
            }
            var (current, version) = await GetStatusAsync(connection, transaction, id, context.CancellationToken)
                ?? throw new NotFoundException("post", request.Id);
            if (etag is { } expected && expected != version && current is "queued" or "failed" or "missed" or "unconfirmed")
            {
                throw ConcurrentChangeException.StaleEtag("post");
            }
            return current switch
            {
                "cancelled" => throw new FailedPreconditionException("The post is already cancelled."),
                "published" => throw new FailedPreconditionException("A published post cannot be cancelled."),
                _ => throw new FailedPreconditionException($"The post is {current}; it can be cancelled once the attempt finishes."),
            };
        }, context.CancellationToken);
    }

    private static readonly string[] UpdatablePostFields = ["content", "publish_at", "time_zone", "rrule"];

    /// <summary>
    /// Edits a post that has not gone out. A queued post is edited in place; a failed, missed or unconfirmed one is
    /// queued again (retries reset, error cleared) at its publish_at, which must then be in the future. Publishing,
    /// published and cancelled posts are refused with FAILED_PRECONDITION. The UPDATE is guarded by the status and
    /// version it read, so a concurrent claim or edit makes it fail (FAILED_PRECONDITION / ABORTED), never both win.
    /// </summary>
    public override async Task<ScheduledPost> UpdatePost(UpdatePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, UpdatablePostFields, field => field switch
        {
            "content" => request.Content is not null,
            "publish_at" => request.PublishAt is not null,
            "time_zone" => request.TimeZone.Length > 0,
            "rrule" => request.Rrule.Length > 0,
            _ => false,
        }, violations);
        if (paths.Contains("content"))
        {
            ContentRules.CheckShape(request.Content, "content", violations);
        }
        var now = time.GetUtcNow();
        DateTimeOffset? newPublishAt = null;
        if (paths.Contains("publish_at"))
        {
            newPublishAt = RequestFields.ParseTime(request.PublishAt, "publish_at", violations);
            CheckPublishWindow(newPublishAt, now, violations);
        }
        var newTimeZone = paths.Contains("time_zone") ? Recurrence.NormalizeTimeZone(request.TimeZone, "time_zone", violations) : null;
        var newRule = paths.Contains("rrule") ? Recurrence.NormalizeRule(request.Rrule, "rrule", violations) : null;
        violations.ThrowIfAny();

        var edited = await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var current = await LoadEditableAsync(connection, transaction, id!.Value, context.CancellationToken)
                ?? throw new NotFoundException("post", request.Id);
            if (etag is { } expected && expected != current.Version)
            {
                throw ConcurrentChangeException.StaleEtag("post");
            }
            var requeue = current.Status switch
            {
                "queued" => false,
                "failed" or "missed" or "unconfirmed" => true,
                "publishing" => throw new FailedPreconditionException("The post is being published; it can be edited once the attempt finishes."),
                "published" => throw new FailedPreconditionException("A published post cannot be edited."),
                _ => throw new FailedPreconditionException($"A {current.Status} post cannot be edited."),
            };

            var channel = await LoadChannelAsync(connection, transaction, current.ChannelId, context.CancellationToken, lockForShare: requeue)
                ?? throw new FailedPreconditionException("The post's channel was deleted; the post cannot be edited.");
            var content = paths.Contains("content") ? request.Content : ContentJson.Deserialize(current.ContentJson);
            if (paths.Contains("content"))
            {
                ContentRules.CheckForChannel(content, channel.Platform, channel.Settings, "content", violations);
            }
            var publishAt = newPublishAt ?? current.PublishAt;
            if (requeue && publishAt < now - PastTolerance)
            {
                violations.Add("publish_at", $"must be moved into the future to queue this {current.Status} post again");
            }
            var timeZone = paths.Contains("time_zone") ? newTimeZone : current.TimeZone;
            var rule = paths.Contains("rrule") ? newRule : current.Rrule;
            var recurrenceChanged = paths.Contains("rrule") || paths.Contains("time_zone");
            if (rule is not null && (recurrenceChanged || newPublishAt is not null) && !violations.Any)
            {
                Recurrence.CheckEvaluates(rule, timeZone, publishAt, "rrule", violations);
            }
            violations.ThrowIfAny();

            await using var update = new NpgsqlCommand($"""
                update scheduled_posts set
                    content_json = @content::jsonb, publish_at = @publish_at, due_at = @due_at,
                    time_zone = @time_zone, rrule = @rrule, status = 'queued',
                    series_start = case when @reanchor then null else series_start end,
                    retry_count = case when @requeue then 0 else retry_count end,
                    error_message = case when @requeue then null else error_message end,
                    lease_expires_at = null
                where id = @id and status = @status and version = @version
                returning {PostRows.Columns}
                """, connection, transaction);
            update.Parameters.AddWithValue("content", ContentJson.Serialize(content));
            update.Parameters.AddWithValue("publish_at", publishAt);
            // Moving publish_at (or queueing again) moves due_at, so the outbox trigger re-indexes the post.
            update.Parameters.AddWithValue("due_at", newPublishAt is not null || requeue ? publishAt : current.DueAt);
            update.Parameters.AddWithValue("time_zone", NullIfEmpty(timeZone));
            update.Parameters.AddWithValue("rrule", NullIfEmpty(rule));
            // A changed rule or zone starts the series afresh from this post; moving one later occurrence moves only it.
            update.Parameters.AddWithValue("reanchor", recurrenceChanged);
            update.Parameters.AddWithValue("requeue", requeue);
            update.Parameters.AddWithValue("id", id!.Value);
            update.Parameters.AddWithValue("status", current.Status);
            update.Parameters.AddWithValue("version", current.Version);
            ScheduledPost? updated;
            try
            {
                updated = await ReadSingleAsync(update, context.CancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new FailedPreconditionException("Another occurrence of this recurring post is already scheduled at that time.");
            }
            if (updated is not null)
            {
                return updated;
            }
            // Lost a race with a claim or another edit: say which.
            var (status, _) = await GetStatusAsync(connection, transaction, id.Value, context.CancellationToken)
                ?? throw new NotFoundException("post", request.Id);
            throw status is "queued" or "failed" or "missed" or "unconfirmed"
                ? ConcurrentChangeException.StaleEtag("post")
                : (DomainException)new FailedPreconditionException($"The post became {status} while it was being edited.");
        }, context.CancellationToken);
        scheduleChanges.Pulse();
        return edited;
    }

    /// <summary>Removes a post and its runs. Refused while it is publishing (the attempt's outcome must land first).</summary>
    public override async Task<Empty> DeletePost(DeletePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var delete = new NpgsqlCommand("""
                delete from scheduled_posts
                where id = @id and status <> 'publishing' and (@etag::int is null or version = @etag)
                """, connection, transaction);
            delete.Parameters.AddWithValue("id", id);
            delete.Parameters.Add(new NpgsqlParameter("etag", NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
            if (await delete.ExecuteNonQueryAsync(context.CancellationToken) == 1)
            {
                return new Empty();
            }
            var (status, _) = await GetStatusAsync(connection, transaction, id, context.CancellationToken)
                ?? throw new NotFoundException("post", request.Id);
            throw status == "publishing"
                ? new FailedPreconditionException("The post is being published; it can be deleted once the attempt finishes.")
                : (DomainException)ConcurrentChangeException.StaleEtag("post");
        }, context.CancellationToken);
    }

    /// <summary>
    /// The seed's monitoring figures for the caller's posts, computed in SQL under row-level security. "Finished in
    /// the last 24 h": published (by published_at) or failed / missed / unconfirmed (by updated_at) since now - 24 h.
    /// </summary>
    public override async Task<PostStatistics> GetPostStatistics(GetPostStatisticsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var since = time.GetUtcNow() - TimeSpan.FromHours(24);
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No user_id filter: row-level security limits the rows to the caller's.
            await using var query = new NpgsqlCommand("""
                with posts as (
                    select platform, status, retry_count,
                           (status = 'published' and published_at >= @since)
                           or (status in ('failed', 'missed', 'unconfirmed') and updated_at >= @since) as finished,
                           case when status = 'published' and published_at >= @since
                                then extract(epoch from published_at - publish_at) end as delay
                    from scheduled_posts)
                select platform, count(*),
                       count(*) filter (where status = 'queued'),
                       count(*) filter (where status = 'publishing'),
                       count(*) filter (where status = 'published'),
                       count(*) filter (where status = 'failed'),
                       count(*) filter (where status = 'cancelled'),
                       count(*) filter (where status = 'missed'),
                       count(*) filter (where status = 'unconfirmed'),
                       count(*) filter (where finished),
                       count(*) filter (where finished and status = 'published'),
                       count(*) filter (where finished and retry_count > 0),
                       coalesce(sum(delay), 0)::float8,
                       count(delay)
                from posts group by platform order by platform
                """, connection, transaction);
            query.Parameters.AddWithValue("since", since);
            var statistics = new PostStatistics();
            long finished = 0, finishedPublished = 0, finishedRetried = 0, delays = 0;
            double delaySum = 0;
            await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                statistics.Total += reader.GetInt64(1);
                statistics.Queued += reader.GetInt64(2);
                statistics.Publishing += reader.GetInt64(3);
                statistics.Published += reader.GetInt64(4);
                statistics.Failed += reader.GetInt64(5);
                statistics.Cancelled += reader.GetInt64(6);
                statistics.Missed += reader.GetInt64(7);
                statistics.Unconfirmed += reader.GetInt64(8);
                finished += reader.GetInt64(9);
                finishedPublished += reader.GetInt64(10);
                finishedRetried += reader.GetInt64(11);
                delaySum += reader.GetDouble(12);
                delays += reader.GetInt64(13);
                statistics.Platforms.Add(new PlatformStatistics
                {
                    Platform = reader.GetString(0),
                    Total = reader.GetInt64(1),
                    Queued = reader.GetInt64(2),
                    Published = reader.GetInt64(4),
                    Failed = reader.GetInt64(5),
                    SuccessRate24H = Ratio(reader.GetInt64(10), reader.GetInt64(9)),
                });
            }
            statistics.Finished24H = finished;
            statistics.SuccessRate24H = Ratio(finishedPublished, finished);
            statistics.RetryRate24H = Ratio(finishedRetried, finished);
            statistics.MeanPublishDelaySeconds24H = delays == 0 ? 0 : delaySum / delays;
            return statistics;
        }, context.CancellationToken);
    }

    private static double Ratio(long part, long whole) => whole == 0 ? 0 : (double)part / whole;

    private static void CheckPublishWindow(DateTimeOffset? publishAt, DateTimeOffset now, FieldViolations violations) =>
        CheckPublishWindow(publishAt, now, "publish_at", violations);

    private static void CheckPublishWindow(DateTimeOffset? publishAt, DateTimeOffset now, string field, FieldViolations violations)
    {
        if (publishAt is { } at && at < now - PastTolerance)
        {
            violations.Add(field, "must be in the future");
        }
        else if (publishAt is { } far && far > now + FarthestFuture)
        {
            violations.Add(field, "must be within two years");
        }
    }

    private sealed record EditablePost(string Status, int Version, Guid ChannelId, string ContentJson, DateTimeOffset PublishAt,
        DateTimeOffset DueAt, string? TimeZone, string? Rrule);

    private static async Task<EditablePost?> LoadEditableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("""
            select status, version, channel_id, content_json::text, publish_at, due_at, time_zone, rrule
            from scheduled_posts where id = @id
            """, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new EditablePost(reader.GetString(0), reader.GetInt32(1), reader.GetGuid(2), reader.GetString(3),
            reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5),
            reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7));
    }

    public override async Task<ListPostRunsResponse> ListPostRuns(ListPostRunsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var limit = request.Limit == 0 ? 10 : request.Limit;
        if (limit is < 1 or > 100)
        {
            violations.Add("limit", "must be between 1 and 100");
        }
        violations.ThrowIfAny();

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (await GetStatusAsync(connection, transaction, id!.Value, context.CancellationToken) is null)
            {
                throw new NotFoundException("post", request.Id);
            }
            await using var query = new NpgsqlCommand($"""
                select {RunRows.Columns} from post_runs where scheduled_post_id = @id
                order by started_at desc limit @limit
                """, connection, transaction);
            query.Parameters.AddWithValue("id", id!.Value);
            query.Parameters.AddWithValue("limit", limit);
            var response = new ListPostRunsResponse();
            await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                response.Runs.Add(RunRows.Read(reader));
            }
            return response;
        }, context.CancellationToken);
    }

    /// <summary>
    /// A channel that has not been deleted. <paramref name="lockForShare"/> holds it until commit, so a concurrent
    /// DeleteChannel cannot miss a post queued on it (it waits, then cancels that post too).
    /// </summary>
    internal static async Task<Channel?> LoadChannelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id,
        CancellationToken cancellationToken, bool lockForShare = false)
    {
        await using var query = new NpgsqlCommand(
            $"select {ChannelRows.Columns} from channels where id = @id and deleted_at is null{(lockForShare ? " for share" : "")}",
            connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ChannelRows.Read(reader) : null;
    }

    private static async Task<(string Status, int Version)?> GetStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("select status, version from scheduled_posts where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetString(0), reader.GetInt32(1)) : null;
    }

    private static async Task<ScheduledPost?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? PostRows.Read(reader) : null;
    }

    private static PostStatus? ParseStatusFilter(ListPostsRequest request, FieldViolations violations) =>
        ParseFilter(request.Status, "status", Vocabulary.ToPostStatus,
            "must be one of queued, publishing, published, failed, cancelled, missed, unconfirmed",
            request.StatusFilter, "status_filter", violations);

    private static Platform? ParsePlatformFilter(ListPostsRequest request, FieldViolations violations) =>
        ParseFilter(request.Platform, "platform", Vocabulary.ToPlatform, "must be whatsapp or instagram",
            request.PlatformFilter, "platform_filter", violations);

    /// <summary>A list filter given either as the seed's word (?status=queued) or as the proto enum.</summary>
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

    private static object NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? DBNull.Value : value;
}
