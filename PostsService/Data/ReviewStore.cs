using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Drafts and approval: submitting a post, approving the exact version an editor reviewed, rejecting with a reason,
/// and expiring posts whose time passed while they waited. User calls run under row-level security; what binds an
/// approval to what is published is the database's (hold_unapproved_post, migration 0016_drafts_and_approval.sql).
/// </summary>
public sealed class ReviewStore(PostsDatabase database)
{
    private static readonly string[] Submittable = PostLifecycle.Words(PostLifecycle.Submittable);

    /// <summary>Where a post under review stands, read in the reviewing transaction.</summary>
    private sealed record ReviewedPost(PostStatus Status, int Version, DateTimeOffset PublishAt, bool NeedsApproval, Guid ChannelId,
        bool CallerIsAuthor, bool CallerSubmitted, WorkspaceRole CallerRole);

    /// <summary>
    /// Sends a draft, rejected or expired post on: to pending_approval when it needs approval (a contributor's post
    /// always does), else queued. Null when the caller cannot see the post.
    /// </summary>
    public Task<ScheduledPost?> SubmitAsync(Guid userId, Guid id, int? etag, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, id, WorkspaceRoles.ChangePosts, "submit posts", cancellationToken,
                    authorBeforeApproval: true)
                || await LoadAsync(connection, transaction, id, cancellationToken) is not { } post)
            {
                return null;
            }
            if (!PostLifecycle.Submittable.Contains(post.Status))
            {
                throw new FailedPreconditionException($"A {post.Status.ToDb()} post cannot be submitted; only drafts, rejected and expired posts can.");
            }
            RequireVersion(post, etag);
            if (post.PublishAt <= now)
            {
                throw new FailedPreconditionException("The post's publish_at has passed: set a new one (UpdatePost), then submit it.");
            }
            await LockChannelAsync(connection, transaction, post.ChannelId, cancellationToken);
            var needsApproval = post.NeedsApproval || post.CallerRole == WorkspaceRole.Contributor;
            await using var submit = new NpgsqlCommand($"""
                update scheduled_posts set status = @status, needs_approval = @needs, submitted_by = app_user_id(), review_comment = null,
                    retry_count = 0, error_message = null
                where id = @id and version = @version and status = any(@submittable)
                returning {PostRows.Columns}
                """, connection, transaction);
            submit.Parameters.AddWithValue("status", (needsApproval ? PostStatus.PendingApproval : PostStatus.Queued).ToDb());
            submit.Parameters.AddWithValue("needs", needsApproval);
            submit.Parameters.AddWithValue("id", id);
            submit.Parameters.AddWithValue("version", post.Version);
            submit.Parameters.AddWithValue("submittable", Submittable);
            return await PostRows.ReadSingleAsync(submit, cancellationToken) ?? throw ConcurrentChangeException.StaleEtag("post");
        }, cancellationToken);

    /// <summary>
    /// Approves a pending post as it was at <paramref name="etag"/>, queued at its time or at <paramref name="newPublishAt"/>
    /// (required when its own has passed). No one approves a post they wrote or submitted. Null when the caller
    /// cannot see the post.
    /// </summary>
    public Task<ScheduledPost?> ApproveAsync(Guid userId, Guid id, int etag, DateTimeOffset? newPublishAt, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, id, WorkspaceRoles.ReviewPosts, "approve posts", cancellationToken)
                || await LoadAsync(connection, transaction, id, cancellationToken) is not { } post)
            {
                return null;
            }
            if (post.Status != PostStatus.PendingApproval)
            {
                throw new FailedPreconditionException($"Only a post pending approval can be approved; this one is {post.Status.ToDb()}.");
            }
            RequireVersion(post, etag);
            if (post.CallerIsAuthor || post.CallerSubmitted)
            {
                throw new ActionForbiddenException("No one approves their own post: another editor, admin or owner of the workspace must.");
            }
            if (newPublishAt is null && post.PublishAt <= now)
            {
                throw new FailedPreconditionException("The post's time passed while it waited for approval: approve it with a new publish_at.");
            }
            await LockChannelAsync(connection, transaction, post.ChannelId, cancellationToken);
            await using var approve = new NpgsqlCommand($"""
                update scheduled_posts set status = 'queued', approved_by = app_user_id(),
                    approved_hash = publish_hash(content_json, channel_id,
                        case when @new_time is null then coalesce(series_start, publish_at) else @new_time end, recipients, rrule, time_zone),
                    publish_at = coalesce(@new_time, publish_at), due_at = coalesce(@new_time, due_at),
                    series_start = case when @new_time is null then series_start end
                where id = @id and version = @version and status = 'pending_approval'
                returning {PostRows.Columns}
                """, connection, transaction);
            approve.Parameters.Add(new NpgsqlParameter("new_time", NpgsqlDbType.TimestampTz) { Value = (object?)newPublishAt ?? DBNull.Value });
            approve.Parameters.AddWithValue("id", id);
            approve.Parameters.AddWithValue("version", etag);
            return await PostRows.ReadSingleAsync(approve, cancellationToken) ?? throw ConcurrentChangeException.StaleEtag("post");
        }, cancellationToken);

    /// <summary>Sends a pending post back to its author with <paramref name="reason"/>; null when the caller cannot see it.</summary>
    public Task<ScheduledPost?> RejectAsync(Guid userId, Guid id, string reason, int? etag, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ScheduledPost?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnPostAsync(connection, transaction, id, WorkspaceRoles.ReviewPosts, "reject posts", cancellationToken)
                || await LoadAsync(connection, transaction, id, cancellationToken) is not { } post)
            {
                return null;
            }
            if (post.Status != PostStatus.PendingApproval)
            {
                throw new FailedPreconditionException($"Only a post pending approval can be rejected; this one is {post.Status.ToDb()}.");
            }
            RequireVersion(post, etag);
            await using var reject = new NpgsqlCommand($"""
                update scheduled_posts set status = 'rejected', review_comment = @reason
                where id = @id and version = @version and status = 'pending_approval'
                returning {PostRows.Columns}
                """, connection, transaction);
            reject.Parameters.AddWithValue("reason", reason);
            reject.Parameters.AddWithValue("id", id);
            reject.Parameters.AddWithValue("version", post.Version);
            return await PostRows.ReadSingleAsync(reject, cancellationToken) ?? throw ConcurrentChangeException.StaleEtag("post");
        }, cancellationToken);

    /// <summary>
    /// Marks expired every post still pending approval whose time has come (owner pool: every workspace). They were
    /// never in the scheduler's index, so nothing else changes; returns how many.
    /// </summary>
    public async Task<int> ExpireOverdueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var expire = database.Owner.CreateCommand("""
            update scheduled_posts set status = 'expired',
                error_message = 'Expired: its time passed while it waited for approval; set a new time and submit it again.'
            where status = 'pending_approval' and due_at <= @now
            """);
        expire.Parameters.AddWithValue("now", now);
        return await expire.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void RequireVersion(ReviewedPost post, int? etag)
    {
        if (etag is { } expected && expected != post.Version)
        {
            throw ConcurrentChangeException.StaleEtag("post");
        }
    }

    private static async Task<ReviewedPost?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("""
            select status, version, publish_at, needs_approval, channel_id, user_id = app_user_id(),
                   coalesce(submitted_by = app_user_id(), false), app_role(workspace_id)
            from scheduled_posts where id = @id
            """, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new ReviewedPost(Vocabulary.ToPostStatus(reader.GetString(0)), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2),
            reader.GetBoolean(3), reader.GetGuid(4), reader.GetBoolean(5), reader.GetBoolean(6), WorkspaceRoles.FromDb(reader.GetString(7)));
    }

    /// <summary>Holds the post's channel until commit, as every path that queues a post does, so a concurrent delete cannot miss it.</summary>
    private static async Task LockChannelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId, CancellationToken cancellationToken)
    {
        if (await ChannelRows.LoadLiveAsync(connection, transaction, channelId, cancellationToken, lockForShare: true) is null)
        {
            throw new FailedPreconditionException("The post's channel was deleted; it can no longer be scheduled.");
        }
    }
}
