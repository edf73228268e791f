using System.Diagnostics;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostGrpcService(PostsDatabase database, TimeProvider time, PostsMetrics metrics) : PostService.PostServiceBase
{
    private static readonly TimeSpan PastTolerance = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FarthestFuture = TimeSpan.FromDays(2 * 366);
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 100;

    public override async Task<ScheduledPost> CreatePost(CreatePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        ContentRules.CheckShape(request.Content, "content", violations);
        var publishAt = RequestFields.ParseTime(request.PublishAt, "publish_at", violations);
        var now = time.GetUtcNow();
        if (publishAt is { } at && at < now - PastTolerance)
        {
            violations.Add("publish_at", "must be in the future");
        }
        else if (publishAt is { } far && far > now + FarthestFuture)
        {
            violations.Add("publish_at", "must be within two years");
        }
        if (request.RequestId.Length > 64)
        {
            violations.Add("request_id", "must be at most 64 characters");
        }
        violations.ThrowIfAny();

        var post = await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channel = await LoadChannelAsync(connection, transaction, channelId!.Value, context.CancellationToken)
                ?? throw Problems.NotFound("channel", request.ChannelId);
            ContentRules.CheckForChannel(request.Content, channel.Platform, channel.Settings, "content", violations);
            violations.ThrowIfAny();

            await using var insert = new NpgsqlCommand($"""
                insert into scheduled_posts (user_id, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule, request_id, traceparent)
                values (@user, @channel, @platform, @content::jsonb, @publish_at, @publish_at, @time_zone, @rrule, @request_id, @traceparent)
                on conflict (user_id, request_id) where request_id is not null do nothing
                returning {PostRows.Columns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("user", userId);
            insert.Parameters.AddWithValue("channel", channelId!.Value);
            insert.Parameters.AddWithValue("platform", channel.Platform.ToDb());
            insert.Parameters.AddWithValue("content", ContentJson.Serialize(request.Content));
            insert.Parameters.AddWithValue("publish_at", publishAt!.Value);
            insert.Parameters.AddWithValue("time_zone", NullIfEmpty(request.TimeZone));
            insert.Parameters.AddWithValue("rrule", NullIfEmpty(request.Rrule));
            insert.Parameters.AddWithValue("request_id", NullIfEmpty(request.RequestId));
            insert.Parameters.AddWithValue("traceparent", NullIfEmpty(Activity.Current?.Id));
            var created = await ReadSingleAsync(insert, context.CancellationToken);
            if (created is not null)
            {
                metrics.PostCreated(channel.Platform);
                return created;
            }

            // A repeated request_id: return what the first call created (AIP-155).
            await using var existing = new NpgsqlCommand(
                $"select {PostRows.Columns} from scheduled_posts where user_id = @user and request_id = @request_id",
                connection, transaction);
            existing.Parameters.AddWithValue("user", userId);
            existing.Parameters.AddWithValue("request_id", request.RequestId);
            return await ReadSingleAsync(existing, context.CancellationToken)
                ?? throw Problems.Aborted("A concurrent create with the same request_id is in progress; retry.");
        }, context.CancellationToken);

        return post;
    }

    public override async Task<ScheduledPost> GetPost(GetPostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var id = RequestFields.RequireId(request.Id, "id");
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand($"select {PostRows.Columns} from scheduled_posts where id = @id", connection, transaction);
            query.Parameters.AddWithValue("id", id);
            return await ReadSingleAsync(query, context.CancellationToken) ?? throw Problems.NotFound("post", request.Id);
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
        var id = RequestFields.RequireId(request.Id, "id");
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var cancel = new NpgsqlCommand($"""
                update scheduled_posts set status = 'cancelled', lease_expires_at = null
                where id = @id and status in ('queued', 'failed', 'missed', 'unconfirmed')
                returning {PostRows.Columns}
                """, connection, transaction);
            cancel.Parameters.AddWithValue("id", id);
            var cancelled = await ReadSingleAsync(cancel, context.CancellationToken);
            if (cancelled is not null)
            {
                return cancelled;
            }
            var current = await GetStatusAsync(connection, transaction, id, context.CancellationToken)
                ?? throw Problems.NotFound("post", request.Id);
            return current switch
            {
                "cancelled" => throw Problems.FailedPrecondition("The post is already cancelled."),
                "published" => throw Problems.FailedPrecondition("A published post cannot be cancelled."),
                _ => throw Problems.FailedPrecondition($"The post is {current}; it can be cancelled once the attempt finishes."),
            };
        }, context.CancellationToken);
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
                throw Problems.NotFound("post", request.Id);
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

    internal static async Task<Channel?> LoadChannelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"select {ChannelRows.Columns} from channels where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ChannelRows.Read(reader) : null;
    }

    private static async Task<string?> GetStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("select status from scheduled_posts where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        return (string?)await query.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<ScheduledPost?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? PostRows.Read(reader) : null;
    }

    private static PostStatus? ParseStatusFilter(ListPostsRequest request, FieldViolations violations)
    {
        if (!string.IsNullOrEmpty(request.Status))
        {
            var status = Vocabulary.ToPostStatus(request.Status.ToLowerInvariant());
            if (status == PostStatus.Unspecified)
            {
                violations.Add("status", "must be one of queued, publishing, published, failed, cancelled, missed, unconfirmed");
                return null;
            }
            return status;
        }
        if (request.StatusFilter == PostStatus.Unspecified)
        {
            return null;
        }
        if (!System.Enum.IsDefined(request.StatusFilter))
        {
            violations.Add("status_filter", "is not a known status");
            return null;
        }
        return request.StatusFilter;
    }

    private static Platform? ParsePlatformFilter(ListPostsRequest request, FieldViolations violations)
    {
        if (!string.IsNullOrEmpty(request.Platform))
        {
            var platform = Vocabulary.ToPlatform(request.Platform.ToLowerInvariant());
            if (platform == Platform.Unspecified)
            {
                violations.Add("platform", "must be whatsapp or instagram");
                return null;
            }
            return platform;
        }
        if (request.PlatformFilter == Platform.Unspecified)
        {
            return null;
        }
        if (!System.Enum.IsDefined(request.PlatformFilter))
        {
            violations.Add("platform_filter", "is not a known platform");
            return null;
        }
        return request.PlatformFilter;
    }

    private static object NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? DBNull.Value : value;
}
