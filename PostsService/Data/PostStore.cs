using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>What a list of posts may be narrowed to; null means any.</summary>
public sealed record PostFilter(PostStatus? Status, Platform? Platform, Guid? ChannelId)
{
    public Guid? WorkspaceId { get; init; }

    /// <summary>Publish times from (inclusive); null means no lower bound.</summary>
    public DateTimeOffset? PublishFrom { get; init; }

    /// <summary>Publish times before (exclusive); null means no upper bound.</summary>
    public DateTimeOffset? PublishBefore { get; init; }
}

/// <summary>
/// The posts of the caller's workspaces, as the public API reads and changes them: every call runs as that user,
/// under row-level security, so another workspace's post is simply absent (null, for the caller to answer
/// NOT_FOUND), and a change needs the role <see cref="WorkspaceRoles.ChangePosts"/>. Changes are guarded in SQL by
/// the lifecycle (<see cref="PostLifecycle"/>) and the version the caller read.
/// </summary>
public sealed class PostStore(PostsDatabase database)
{
    private static readonly string[] Cancellable = PostLifecycle.Words(PostLifecycle.Cancellable);
    private static readonly string[] Deletable = PostLifecycle.Words(PostLifecycle.Deletable);

    public Task<ScheduledPost?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand($"select {PostRows.Columns} from scheduled_posts where id = @id", connection, transaction);
            query.Parameters.AddWithValue("id", id);
            return await PostRows.ReadSingleAsync(query, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// The caller's posts, newest publish_at first, each with its latest run's error class; <see cref="Page{T}.Total"/>
    /// counts every match.
    /// </summary>
    public Task<Page<ScheduledPost>> ListAsync(Guid userId, PostFilter filter, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No membership filter here: row-level security limits the rows to the caller's workspaces.
            await using var query = new NpgsqlCommand($"""
                select {PostRows.Columns}, count(*) over (),
                       (select r.error_class from post_runs r where r.scheduled_post_id = scheduled_posts.id
                        order by r.started_at desc limit 1)
                from scheduled_posts
                where (@status::text is null or status = @status)
                  and (@platform::text is null or platform = @platform)
                  and (@channel::uuid is null or channel_id = @channel)
                  and (@workspace::uuid is null or workspace_id = @workspace)
                  and (@publish_from::timestamptz is null or publish_at >= @publish_from)
                  and (@publish_before::timestamptz is null or publish_at < @publish_before)
                order by publish_at desc, id
                limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter.Status?.ToDb() ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("platform", NpgsqlDbType.Text) { Value = (object?)filter.Platform?.ToDb() ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Uuid) { Value = (object?)filter.ChannelId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)filter.WorkspaceId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("publish_from", NpgsqlDbType.TimestampTz) { Value = (object?)filter.PublishFrom?.UtcDateTime ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("publish_before", NpgsqlDbType.TimestampTz) { Value = (object?)filter.PublishBefore?.UtcDateTime ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            var posts = new List<ScheduledPost>(pageSize);
            var total = 0;
            var more = false;
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                total = (int)reader.GetInt64(PostRows.ColumnCount);
                if (posts.Count == pageSize)
                {
                    more = true;
                    break;
                }
                var post = PostRows.Read(reader);
                post.LastErrorClass = reader.IsDBNull(PostRows.ColumnCount + 1) ? "" : reader.GetString(PostRows.ColumnCount + 1);
                posts.Add(post);
            }
            return new Page<ScheduledPost>(posts, total, more);
        }, cancellationToken);

    /// <summary>
    /// Creates the posts of one request together (AIP-155 repeats return the first create's post): all or none, so
    /// a missing channel or content that does not fit its channel fails the whole request.
    /// </summary>
    public Task<List<ScheduledPost>> CreateAsync(Guid userId, IReadOnlyList<NewPost> posts, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channels = await PostInserts.LoadCheckedChannelsAsync(connection, transaction, userId, posts, cancellationToken);
            var created = await PostInserts.InsertAsync(connection, transaction, [(userId, posts, channels)], cancellationToken);
            // All or none: a refused request_id fails the whole request, and the transaction rolls back.
            return created[0].Select(result => result.PostOrThrow()).ToList();
        }, cancellationToken);

    /// <summary>
    /// Checks a create against its channel as <see cref="CreateAsync"/> does (visible, role, the platform's content
    /// and recipient rules) and writes nothing (a <c>validate_only</c> create, AIP-163): the post as it would start.
    /// </summary>
    public Task<ScheduledPost> ValidateCreateAsync(Guid userId, NewPost post, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channels = await PostInserts.LoadCheckedChannelsAsync(connection, transaction, userId, [post], cancellationToken);
            return post.Preview(channels[post.ChannelId], userId);
        }, cancellationToken);

    /// <summary>Cancels a post the lifecycle lets the user cancel; null when there is no such post of the caller's.</summary>
    public Task<ScheduledPost?> CancelAsync(Guid userId, Guid id, int? etag, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, id, WorkspaceRoles.ChangePosts, "cancel posts", cancellationToken))
            {
                return null;
            }
            await using var cancel = new NpgsqlCommand($"""
                update scheduled_posts set status = 'cancelled', lease_expires_at = null
                where id = @id and status = any(@cancellable)
                  and (@etag::int is null or version = @etag)
                returning {PostRows.Columns}
                """, connection, transaction);
            cancel.Parameters.AddWithValue("id", id);
            cancel.Parameters.AddWithValue("cancellable", Cancellable);
            cancel.Parameters.Add(new NpgsqlParameter("etag", NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
            if (await PostRows.ReadSingleAsync(cancel, cancellationToken) is { } cancelled)
            {
                return cancelled;
            }
            if (await PostRows.ReadStatusAsync(connection, transaction, id, cancellationToken) is not { } current)
            {
                return null;
            }
            throw PostLifecycle.CancelRefused(current.Status, current.Version, etag);
        }, cancellationToken);

    /// <summary>Removes a post and its runs; refused while it is publishing. False when there is no such post of the caller's.</summary>
    public Task<bool> DeleteAsync(Guid userId, Guid id, int? etag, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, id, WorkspaceRoles.ChangePosts, "delete posts", cancellationToken,
                    authorBeforeApproval: true))
            {
                return false;
            }
            await using var delete = new NpgsqlCommand("""
                delete from scheduled_posts
                where id = @id and status = any(@deletable) and (@etag::int is null or version = @etag)
                """, connection, transaction);
            delete.Parameters.AddWithValue("id", id);
            delete.Parameters.AddWithValue("deletable", Deletable);
            delete.Parameters.Add(new NpgsqlParameter("etag", NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return true;
            }
            if (await PostRows.ReadStatusAsync(connection, transaction, id, cancellationToken) is not { } current)
            {
                return false;
            }
            throw PostLifecycle.DeleteRefused(current.Status);
        }, cancellationToken);

    /// <summary>
    /// Applies <paramref name="edit"/> in one transaction: reads the post, lets the edit decide, writes guarded by the
    /// status and version it read, so a concurrent claim or edit makes it fail (FAILED_PRECONDITION / ABORTED), never
    /// both win. Null when there is no such post of the caller's.
    /// </summary>
    public Task<ScheduledPost?> EditAsync(Guid userId, PostEdit edit, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, edit.PostId, WorkspaceRoles.ChangePosts, "edit posts", cancellationToken,
                    authorBeforeApproval: true)
                || await LoadEditableAsync(connection, transaction, edit.PostId, cancellationToken) is not { } loaded)
            {
                return null;
            }
            var (current, contentJson) = loaded;
            var requeue = edit.Admit(current);
            // A post queued again holds its channel until commit, so a concurrent DeleteChannel cannot miss it.
            var channel = await ChannelRows.LoadLiveAsync(connection, transaction, current.ChannelId, cancellationToken, lockForShare: requeue);
            var changes = edit.Apply(current, channel, requeue);
            var content = changes.Content is { } changed ? ContentJson.Serialize(changed) : ContentJson.Serialize(ContentJson.Deserialize(contentJson));
            if (await WriteEditAsync(connection, transaction, edit.PostId, current, changes, content, cancellationToken) is { } edited)
            {
                return edited;
            }
            // Lost a race with a claim or another edit: say which.
            if (await PostRows.ReadStatusAsync(connection, transaction, edit.PostId, cancellationToken) is not { } now)
            {
                return null;
            }
            throw PostLifecycle.EditRaceLost(now.Status);
        }, cancellationToken);

    private static async Task<(EditablePost Post, string ContentJson)?> LoadEditableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid id, CancellationToken cancellationToken)
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
        var post = new EditablePost(Vocabulary.ToPostStatus(reader.GetString(0)), reader.GetInt32(1), reader.GetGuid(2),
            reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5),
            reader.IsDBNull(6) ? null : reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7));
        return (post, reader.GetString(3));
    }

    private static async Task<ScheduledPost?> WriteEditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id,
        EditablePost current, PostChanges changes, string contentJson, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand($"""
            update scheduled_posts set
                content_json = @content::jsonb, publish_at = @publish_at, due_at = @due_at,
                time_zone = @time_zone, rrule = @rrule, status = @new_status,
                series_start = case when @reanchor then null else series_start end,
                retry_count = case when @requeue then 0 else retry_count end,
                error_message = case when @requeue then null else error_message end,
                lease_expires_at = null,
                recipients = case when @changes_recipients then @recipients else recipients end
            where id = @id and status = @status and version = @version
            returning {PostRows.Columns}
            """, connection, transaction);
        update.Parameters.AddWithValue("content", contentJson);
        update.Parameters.AddWithValue("publish_at", changes.PublishAt);
        update.Parameters.AddWithValue("due_at", changes.DueAt);
        update.Parameters.AddWithValue("time_zone", DbValues.TextOrNull(changes.TimeZone));
        update.Parameters.AddWithValue("rrule", DbValues.TextOrNull(changes.Rrule));
        update.Parameters.AddWithValue("reanchor", changes.Reanchor);
        update.Parameters.AddWithValue("requeue", changes.Requeue);
        update.Parameters.AddWithValue("changes_recipients", changes.ChangesRecipients);
        update.Parameters.Add(new NpgsqlParameter("recipients", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)changes.Recipients ?? DBNull.Value });
        update.Parameters.AddWithValue("id", id);
        update.Parameters.AddWithValue("status", current.Status.ToDb());
        update.Parameters.AddWithValue("new_status", PostLifecycle.AfterEdit(current.Status).ToDb());
        update.Parameters.AddWithValue("version", current.Version);
        try
        {
            return await PostRows.ReadSingleAsync(update, cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new FailedPreconditionException("Another occurrence of this recurring post is already scheduled at that time.");
        }
    }
}
