using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// The roles of a workspace's members, ranked: each may do everything the roles below it may (owner, admin, editor,
/// contributor, viewer). What each action needs is said once, here, and the database's policies hold the same line
/// (migration 0013_workspaces.sql).
/// </summary>
public static class WorkspaceRoles
{
    /// <summary>Writing posts: a contributor's always need approval; and changing their own until approved.</summary>
    public const WorkspaceRole WritePosts = WorkspaceRole.Contributor;

    /// <summary>Creating, changing and deleting the workspace's templates: whoever may write posts.</summary>
    public const WorkspaceRole WriteTemplates = WritePosts;

    /// <summary>Scheduling, editing, cancelling and deleting anyone's posts directly.</summary>
    public const WorkspaceRole ChangePosts = WorkspaceRole.Editor;

    /// <summary>Approving and rejecting posts (never one's own).</summary>
    public const WorkspaceRole ReviewPosts = WorkspaceRole.Editor;

    /// <summary>Adding, changing, pausing and deleting channels.</summary>
    public const WorkspaceRole ManageChannels = WorkspaceRole.Admin;

    /// <summary>Inviting, changing and removing members, and renaming the workspace.</summary>
    public const WorkspaceRole ManageMembers = WorkspaceRole.Admin;

    /// <summary>Adding, changing, rotating and deleting outbound webhook endpoints, reading their delivery logs, redelivering.</summary>
    public const WorkspaceRole ManageWebhooks = WorkspaceRole.Admin;

    /// <summary>Making, unmaking, inviting or removing an owner.</summary>
    public const WorkspaceRole ManageOwners = WorkspaceRole.Owner;

    /// <summary>True when <paramref name="role"/> may do what <paramref name="needed"/> may. The enum runs from owner (1) down to viewer (5).</summary>
    public static bool Allows(this WorkspaceRole role, WorkspaceRole needed) =>
        role != WorkspaceRole.Unspecified && role <= needed;

    public static string ToDb(this WorkspaceRole role) => role switch
    {
        WorkspaceRole.Owner => "owner",
        WorkspaceRole.Admin => "admin",
        WorkspaceRole.Editor => "editor",
        WorkspaceRole.Contributor => "contributor",
        WorkspaceRole.Viewer => "viewer",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "A member always has a role."),
    };

    public static WorkspaceRole FromDb(string? word) => word switch
    {
        "owner" => WorkspaceRole.Owner,
        "admin" => WorkspaceRole.Admin,
        "editor" => WorkspaceRole.Editor,
        "contributor" => WorkspaceRole.Contributor,
        "viewer" => WorkspaceRole.Viewer,
        _ => WorkspaceRole.Unspecified,
    };

    /// <summary>Refuses, naming the role needed, when <paramref name="role"/> may not <paramref name="action"/>.</summary>
    public static void Require(this WorkspaceRole role, WorkspaceRole needed, string action)
    {
        if (!role.Allows(needed))
        {
            throw new RoleRequiredException(action, needed, role);
        }
    }
}
