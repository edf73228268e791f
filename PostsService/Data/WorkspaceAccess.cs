using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// The caller's role where a request acts, read in the request's own transaction (as the API role, under row-level
/// security): a resource of a workspace the caller is not in is not visible (null, for NOT_FOUND), and a role too
/// low for the action is refused here, before any write, with the role it needs (PERMISSION_DENIED).
/// </summary>
public static class WorkspaceAccess
{
    /// <summary>
    /// The caller's workspaces (any role may read), as SQL for "workspace_id in ...". Row-level security alone keeps
    /// other workspaces' rows out, but its policies on scheduled_posts are OR'ed with the group commit's (a text
    /// "user/workspace" match), which no index serves: a read narrowed only by them scans the whole table
    /// (bench/million.md). Naming the workspaces as well lets PostgreSQL use a workspace_id index.
    /// </summary>
    public const string CallerWorkspaces = "(select workspace_id from workspace_members where user_id = app_user_id())";

    /// <summary>Makes the caller's personal workspace (whose id is the caller's) unless it exists.</summary>
    public static async Task EnsurePersonalAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var ensure = new NpgsqlCommand("select ensure_personal_workspace()", connection, transaction);
        await ensure.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The workspace a new resource goes into: the one named, or the caller's personal one (made now if need be) when
    /// none is; null when the caller is not a member of the one named. A role too low to <paramref name="action"/> is
    /// refused (PERMISSION_DENIED) before anything is written.
    /// </summary>
    public static async Task<Guid?> RequireTargetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, Guid? workspaceId,
        WorkspaceRole needed, string action, CancellationToken cancellationToken)
    {
        if (workspaceId is null)
        {
            await EnsurePersonalAsync(connection, transaction, cancellationToken);
        }
        var workspace = workspaceId ?? userId;
        var role = await RoleInAsync(connection, transaction, workspace, cancellationToken);
        if (role == WorkspaceRole.Unspecified)
        {
            return null;
        }
        role.Require(needed, action);
        return workspace;
    }

    /// <summary>The caller's role in the workspace; Unspecified when not a member (or no such workspace).</summary>
    public static async Task<WorkspaceRole> RoleInAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("select app_role(@workspace)", connection, transaction);
        query.Parameters.AddWithValue("workspace", workspaceId);
        return WorkspaceRoles.FromDb(await query.ExecuteScalarAsync(cancellationToken) as string);
    }

    /// <summary>
    /// Checks the caller may <paramref name="action"/> on the post; false when the post is not visible to them. With
    /// <paramref name="authorBeforeApproval"/>, a contributor may also act on their own post until it is approved.
    /// </summary>
    public static async Task<bool> RequireOnPostAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid postId,
        WorkspaceRole needed, string action, CancellationToken cancellationToken, bool authorBeforeApproval = false)
    {
        await using var query = new NpgsqlCommand(
            "select app_role(workspace_id), user_id = app_user_id(), status from scheduled_posts where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", postId);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return false;
        }
        var role = WorkspaceRoles.FromDb(reader.IsDBNull(0) ? null : reader.GetString(0));
        var ownUnapproved = reader.GetBoolean(1) && PostLifecycle.Unapproved.Contains(Vocabulary.ToPostStatus(reader.GetString(2)));
        if (!(authorBeforeApproval && ownUnapproved && role.Allows(WorkspaceRoles.WritePosts)))
        {
            role.Require(needed, action);
        }
        return true;
    }

    /// <summary>
    /// Checks the caller may <paramref name="action"/> on the channel; false when the channel is not visible to them.
    /// </summary>
    public static Task<bool> RequireOnChannelAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        WorkspaceRole needed, string action, CancellationToken cancellationToken) =>
        RequireOnRowAsync(connection, transaction, "select app_role(workspace_id) from channels where id = @id", channelId, needed, action, cancellationToken);

    private static async Task<bool> RequireOnRowAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Guid id,
        WorkspaceRole needed, string action, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand(sql, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return false;
        }
        WorkspaceRoles.FromDb(reader.IsDBNull(0) ? null : reader.GetString(0)).Require(needed, action);
        return true;
    }

    /// <summary>Checks the caller's role in the workspace; false when they are not a member (so it is not visible).</summary>
    public static async Task<bool> RequireRoleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId,
        WorkspaceRole needed, string action, CancellationToken cancellationToken)
    {
        var role = await WorkspaceAccess.RoleInAsync(connection, transaction, workspaceId, cancellationToken);
        if (role == WorkspaceRole.Unspecified)
        {
            return false;
        }
        role.Require(needed, action);
        return true;
    }
}
