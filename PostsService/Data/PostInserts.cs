using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>A create request checked in everything that needs no database; its fields are named under <see cref="Prefix"/>.</summary>
public sealed record NewPost(CreatePostRequest Request, string Prefix, Guid ChannelId, DateTimeOffset PublishAt, string? TimeZone, string? Rrule)
{
    /// <summary>The creating call's span: stored with the post, so the post's trace goes on from its create.</summary>
    public string? Traceparent { get; init; }
}

/// <summary>
/// The statements every create shares, set-based so that one post or five hundred cost the same round trips: the
/// user's channels in one query, the posts in one INSERT.
/// </summary>
public static class PostInserts
{
    /// <summary>
    /// Sets the transaction's user (row-level security) and loads that user's live channels among
    /// <paramref name="channelIds"/>, locked for share so a concurrent channel delete waits for this transaction.
    /// Channels of other users are not visible, so they are simply absent (NOT_FOUND to the caller).
    /// </summary>
    public static async Task<Dictionary<Guid, Channel>> SetUserAndLoadChannelsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid userId, IEnumerable<Guid> channelIds, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("select set_config('app.user_id', $1, true)") { Parameters = { new NpgsqlParameter { Value = userId.ToString() } } },
                new NpgsqlBatchCommand($"select {ChannelRows.Columns} from channels where id = any($1) and deleted_at is null for share")
                {
                    Parameters = { new NpgsqlParameter { Value = channelIds.Distinct().ToArray() } },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var channels = new Dictionary<Guid, Channel>();
        while (await reader.ReadAsync(cancellationToken))
        {
            channels[reader.GetGuid(0)] = ChannelRows.Read(reader);
        }
        return channels;
    }

    /// <summary>
    /// Inserts <paramref name="posts"/> (each channel already checked) in one statement, in the caller's transaction
    /// and as the user it set. A request_id used before yields the post that first create made (AIP-155). The result
    /// is in the order of <paramref name="posts"/>; an entry is null only when a concurrent create with the same
    /// request_id has not committed yet.
    /// </summary>
    public static async Task<ScheduledPost?[]> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId,
        IReadOnlyList<NewPost> posts, IReadOnlyDictionary<Guid, Channel> channels, CancellationToken cancellationToken)
    {
        var ids = new Guid[posts.Count];
        var index = new Dictionary<Guid, int>(posts.Count);
        for (var i = 0; i < posts.Count; i++)
        {
            ids[i] = Guid.NewGuid();
            index[ids[i]] = i;
        }

        await using var insert = new NpgsqlCommand($"""
            insert into scheduled_posts (id, user_id, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule, request_id, traceparent)
            select p.id, @user, p.channel_id, p.platform, p.content::jsonb, p.publish_at, p.publish_at, p.time_zone, p.rrule, p.request_id, p.traceparent
            from unnest(@ids, @channels, @platforms, @contents, @publish_at, @time_zones, @rrules, @request_ids, @traceparents)
                as p(id, channel_id, platform, content, publish_at, time_zone, rrule, request_id, traceparent)
            on conflict (user_id, request_id) where request_id is not null do nothing
            returning {PostRows.Columns}
            """, connection, transaction);
        insert.Parameters.AddWithValue("user", userId);
        insert.Parameters.AddWithValue("ids", ids);
        insert.Parameters.AddWithValue("channels", posts.Select(p => p.ChannelId).ToArray());
        insert.Parameters.AddWithValue("platforms", posts.Select(p => channels[p.ChannelId].Platform.ToDb()).ToArray());
        insert.Parameters.AddWithValue("contents", posts.Select(p => ContentJson.Serialize(p.Request.Content)).ToArray());
        insert.Parameters.AddWithValue("publish_at", posts.Select(p => p.PublishAt.UtcDateTime).ToArray());
        insert.Parameters.AddWithValue("time_zones", posts.Select(p => NullIfEmpty(p.TimeZone)).ToArray());
        insert.Parameters.AddWithValue("rrules", posts.Select(p => NullIfEmpty(p.Rrule)).ToArray());
        insert.Parameters.AddWithValue("request_ids", posts.Select(p => NullIfEmpty(p.Request.RequestId)).ToArray());
        insert.Parameters.AddWithValue("traceparents", posts.Select(p => NullIfEmpty(p.Traceparent)).ToArray());

        var created = new ScheduledPost?[posts.Count];
        await using (var reader = await insert.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                created[index[reader.GetGuid(0)]] = PostRows.Read(reader);
            }
        }

        var repeated = Enumerable.Range(0, posts.Count).Where(i => created[i] is null).ToList();
        if (repeated.Count > 0)
        {
            await FillRepeatedAsync(connection, transaction, userId, posts, repeated, created, cancellationToken);
        }
        return created;
    }

    private static async Task FillRepeatedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId,
        IReadOnlyList<NewPost> posts, List<int> repeated, ScheduledPost?[] created, CancellationToken cancellationToken)
    {
        await using var existing = new NpgsqlCommand(
            $"select {PostRows.Columns}, request_id from scheduled_posts where user_id = @user and request_id = any(@request_ids)",
            connection, transaction);
        existing.Parameters.AddWithValue("user", userId);
        existing.Parameters.AddWithValue("request_ids", repeated.Select(i => posts[i].Request.RequestId).Distinct().ToArray());
        var byRequestId = new Dictionary<string, ScheduledPost>(StringComparer.Ordinal);
        await using var reader = await existing.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            byRequestId[reader.GetString(PostRows.ColumnCount)] = PostRows.Read(reader);
        }
        foreach (var i in repeated)
        {
            created[i] = byRequestId.GetValueOrDefault(posts[i].Request.RequestId);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
