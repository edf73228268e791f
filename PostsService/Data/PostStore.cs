using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

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
    /// One page of the caller's posts, newest publish_at first (ties by id, descending), each with its latest run's
    /// error class. <see cref="Page{T}.Total"/>
    /// counts every match when <see cref="PostPageRequest.CountTotal"/> asks for it, and is 0 otherwise.
    /// </summary>
    public Task<Page<ScheduledPost>> ListAsync(Guid userId, PostFilter filter, PostPageRequest page, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // Only the filters sent become SQL, so each combination is its own prepared statement with a plan that
            // uses the index (an "@x is null or" condition would keep a generic plan from it).
            var conditions = new List<string>();
            var parameters = new List<NpgsqlParameter>();
            void Where(string condition, string name, NpgsqlDbType type, object? value)
            {
                if (value is not null)
                {
                    conditions.Add(condition);
                    parameters.Add(new NpgsqlParameter(name, type) { Value = value });
                }
            }
            Where("p.status = @status", "status", NpgsqlDbType.Text, filter.Status?.ToDb());
            Where("p.platform = @platform", "platform", NpgsqlDbType.Text, filter.Platform?.ToDb());
            Where("p.channel_id = @channel", "channel", NpgsqlDbType.Uuid, filter.ChannelId);
            Where("p.publish_at >= @publish_from", "publish_from", NpgsqlDbType.TimestampTz, filter.PublishFrom?.UtcDateTime);
            Where("p.publish_at < @publish_before", "publish_before", NpgsqlDbType.TimestampTz, filter.PublishBefore?.UtcDateTime);
            Where("member.workspace_id = @workspace", "workspace", NpgsqlDbType.Uuid, filter.WorkspaceId);
            var total = page.CountTotal ? await CountAsync(connection, transaction, conditions, parameters, cancellationToken) : 0;
            if (page.After is { } after)
            {
                // The same order as the index and the "order by": a row comparison is one range of the index.
                conditions.Add("(p.publish_at, p.id) < (@after_publish_at, @after_id)");
                parameters.Add(new NpgsqlParameter("after_publish_at", NpgsqlDbType.TimestampTz) { Value = after.PublishAt.UtcDateTime });
                parameters.Add(new NpgsqlParameter("after_id", NpgsqlDbType.Uuid) { Value = after.Id });
            }
            // Row-level security limits the rows to the caller's workspaces; reading them workspace by workspace as
            // well lets each read walk scheduled_posts_workspace_keyset_idx from the page's start and stop after a
            // page, where "workspace_id = any(the caller's workspaces)" would read all of the caller's posts and sort.
            // The planner estimates a workspace's posts as the average workspace's (a few hundred), and for so few
            // prefers a bitmap scan of all of them and a sort: for a workspace of 10,000 posts that read every one of
            // them for each page (EXPLAIN ANALYZE, bench/million.md). Without bitmap scans, in this transaction
            // only, the index's order is used and the read stops after the page.
            await using (var ordered = new NpgsqlCommand("set local enable_bitmapscan = off", connection, transaction))
            {
                await ordered.ExecuteNonQueryAsync(cancellationToken);
            }
            await using var query = new NpgsqlCommand($"""
                select ranked.*,
                       (select r.error_class from post_runs r where r.scheduled_post_id = ranked.id order by r.started_at desc limit 1)
                from (
                    select page.* from {WorkspaceAccess.CallerWorkspaces} member
                    cross join lateral (
                        select {PostRows.Columns} from scheduled_posts p
                        where p.workspace_id = member.workspace_id{And(conditions)}
                        order by p.publish_at desc, p.id desc
                        limit @read
                    ) page
                    order by page.publish_at desc, page.id desc
                    limit @limit offset @offset
                ) ranked
                order by ranked.publish_at desc, ranked.id desc
                """, connection, transaction);
            query.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray());
            query.Parameters.AddWithValue("read", page.Offset + page.Size + 1);
            query.Parameters.AddWithValue("limit", page.Size + 1);
            query.Parameters.AddWithValue("offset", page.Offset);
            var read = await Page<ScheduledPost>.ReadAsync(query, page.Size, reader =>
            {
                var post = PostRows.Read(reader);
                post.LastErrorClass = reader.IsDBNull(PostRows.ColumnCount) ? "" : reader.GetString(PostRows.ColumnCount);
                return post;
            }, cancellationToken);
            return read with { Total = total };
        }, cancellationToken);

    private static string And(IEnumerable<string> conditions) => string.Concat(conditions.Select(c => " and " + c));

    private static async Task<int> CountAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> conditions,
        IEnumerable<NpgsqlParameter> parameters, CancellationToken cancellationToken)
    {
        await using var count = new NpgsqlCommand($"""
            select count(*)::int from {WorkspaceAccess.CallerWorkspaces} member
            join scheduled_posts p on p.workspace_id = member.workspace_id{And(conditions)}
            """, connection, transaction);
        count.Parameters.AddRange(parameters.Select(p => p.Clone()).ToArray());
        return (int)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

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
