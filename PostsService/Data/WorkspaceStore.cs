using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Workspaces and their members, as their members read and change them: every call runs as the caller under
/// row-level security (migration 0013_workspaces.sql), and checks the caller's role before it writes
/// (<see cref="WorkspaceRoles"/>). A workspace the caller is not in is absent (null, for NOT_FOUND).
/// </summary>
public sealed class WorkspaceStore(PostsDatabase database)
{
    private const string WorkspaceColumns = "w.id, w.name, w.personal, m.role, w.created_at, w.version, w.requires_approval";
    internal const string MemberColumns = "workspace_id, user_id, role, created_at, email";

    /// <summary>The database's name for the rule that a workspace keeps an owner (the trigger in 0013_workspaces.sql).</summary>
    private const string KeepsAnOwner = "workspace_keeps_an_owner";

    /// <summary>Creates a workspace owned by the caller, recording <paramref name="email"/> as the owner's address when known.</summary>
    public Task<Workspace> CreateAsync(Guid userId, string name, string? email, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            Guid id;
            await using (var create = new NpgsqlCommand("select create_workspace(@name)", connection, transaction))
            {
                create.Parameters.AddWithValue("name", name);
                id = (Guid)(await create.ExecuteScalarAsync(cancellationToken))!;
            }
            await RecordEmailAsync(connection, transaction, id, email, cancellationToken);
            return (await LoadAsync(connection, transaction, id, cancellationToken))!;
        }, cancellationToken);

    /// <summary>Records the caller's own address on their membership of <paramref name="workspaceId"/> (0047), when known.</summary>
    internal static async Task RecordEmailAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId, string? email,
        CancellationToken cancellationToken)
    {
        if (email is null)
        {
            return;
        }
        await using var record = new NpgsqlCommand("select record_member_email(@workspace, @email)", connection, transaction);
        record.Parameters.AddWithValue("workspace", workspaceId);
        record.Parameters.AddWithValue("email", email);
        await record.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The caller's workspaces, the personal one first (made now when it was not yet).</summary>
    public Task<List<Workspace>> ListAsync(Guid userId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await WorkspaceAccess.EnsurePersonalAsync(connection, transaction, cancellationToken);
            await using var query = new NpgsqlCommand($"""
                select {WorkspaceColumns} from workspaces w
                join workspace_members m on m.workspace_id = w.id and m.user_id = app_user_id()
                order by w.personal desc, w.created_at, w.id
                """, connection, transaction);
            var workspaces = new List<Workspace>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                workspaces.Add(ReadWorkspace(reader));
            }
            return workspaces;
        }, cancellationToken);

    public Task<Workspace?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (id == userId)
            {
                await WorkspaceAccess.EnsurePersonalAsync(connection, transaction, cancellationToken);
            }
            return await LoadAsync(connection, transaction, id, cancellationToken);
        }, cancellationToken);

    /// <summary>Renames the workspace and/or sets whether its posts need approval (null keeps each); null when the caller cannot see it.</summary>
    public Task<Workspace?> UpdateAsync(Guid userId, Guid id, string? name, bool? requiresApproval, int? etag, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, id, WorkspaceRoles.ManageMembers, "change the workspace", cancellationToken))
            {
                return null;
            }
            await using var update = new NpgsqlCommand("""
                update workspaces set name = coalesce(@name, name), requires_approval = coalesce(@requires_approval, requires_approval)
                where id = @id and (@etag::int is null or version = @etag)
                """, connection, transaction);
            update.Parameters.Add(new NpgsqlParameter("name", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)name ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("requires_approval", NpgsqlTypes.NpgsqlDbType.Boolean) { Value = (object?)requiresApproval ?? DBNull.Value });
            update.Parameters.AddWithValue("id", id);
            update.Parameters.Add(new NpgsqlParameter("etag", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw ConcurrentChangeException.StaleEtag("workspace");
            }
            return await LoadAsync(connection, transaction, id, cancellationToken);
        }, cancellationToken);

    public Task<List<WorkspaceMember>?> ListMembersAsync(Guid userId, Guid workspaceId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRole.Viewer, "see the members", cancellationToken))
            {
                return null;
            }
            await using var query = new NpgsqlCommand(
                $"select {MemberColumns} from workspace_members where workspace_id = @workspace order by created_at, user_id", connection, transaction);
            query.Parameters.AddWithValue("workspace", workspaceId);
            var members = new List<WorkspaceMember>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                members.Add(ReadMember(reader));
            }
            return members;
        }, cancellationToken);

    /// <summary>
    /// Gives a member another role. Admins may change anyone but owners; making or unmaking an owner needs an owner;
    /// the last owner stays one (FAILED_PRECONDITION). Null when the caller cannot see the workspace.
    /// </summary>
    public Task<WorkspaceMember?> UpdateMemberAsync(Guid userId, Guid workspaceId, Guid memberId, WorkspaceRole role, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRoles.ManageMembers, "change members' roles", cancellationToken))
            {
                return null;
            }
            var current = await MemberRoleAsync(connection, transaction, workspaceId, memberId, cancellationToken);
            if (current is WorkspaceRole.Owner || role is WorkspaceRole.Owner)
            {
                await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRoles.ManageOwners, "make or unmake an owner", cancellationToken);
            }
            await using (var update = new NpgsqlCommand(
                "update workspace_members set role = @role where workspace_id = @workspace and user_id = @member", connection, transaction))
            {
                update.Parameters.AddWithValue("role", role.ToDb());
                update.Parameters.AddWithValue("workspace", workspaceId);
                update.Parameters.AddWithValue("member", memberId);
                if (await KeepingAnOwnerAsync(() => update.ExecuteNonQueryAsync(cancellationToken)) == 0)
                {
                    throw new NotFoundException("member", memberId.ToString());
                }
            }
            await using var query = new NpgsqlCommand(
                $"select {MemberColumns} from workspace_members where workspace_id = @workspace and user_id = @member", connection, transaction);
            query.Parameters.AddWithValue("workspace", workspaceId);
            query.Parameters.AddWithValue("member", memberId);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return ReadMember(reader);
        }, cancellationToken);

    /// <summary>
    /// Removes a member, or the caller themselves (leaving, which any member may). Removing someone else needs an
    /// admin, and an owner for an owner; the last owner cannot go. False when the caller cannot see the workspace.
    /// </summary>
    public Task<bool> RemoveMemberAsync(Guid userId, Guid workspaceId, Guid memberId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var leaving = memberId == userId;
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, leaving ? WorkspaceRole.Viewer : WorkspaceRoles.ManageMembers,
                    "remove members", cancellationToken))
            {
                return false;
            }
            if (!leaving && await MemberRoleAsync(connection, transaction, workspaceId, memberId, cancellationToken) is WorkspaceRole.Owner)
            {
                await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRoles.ManageOwners, "remove an owner", cancellationToken);
            }
            await using var delete = new NpgsqlCommand(
                "delete from workspace_members where workspace_id = @workspace and user_id = @member", connection, transaction);
            delete.Parameters.AddWithValue("workspace", workspaceId);
            delete.Parameters.AddWithValue("member", memberId);
            return await KeepingAnOwnerAsync(() => delete.ExecuteNonQueryAsync(cancellationToken)) == 1
                ? true
                : throw new NotFoundException("member", memberId.ToString());
        }, cancellationToken);

    private static async Task<WorkspaceRole> MemberRoleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workspaceId, Guid memberId,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand(
            "select role from workspace_members where workspace_id = @workspace and user_id = @member", connection, transaction);
        query.Parameters.AddWithValue("workspace", workspaceId);
        query.Parameters.AddWithValue("member", memberId);
        return WorkspaceRoles.FromDb(await query.ExecuteScalarAsync(cancellationToken) as string);
    }

    private static async Task<T> KeepingAnOwnerAsync<T>(Func<Task<T>> change)
    {
        try
        {
            return await change();
        }
        catch (PostgresException ex) when (ex.ConstraintName == KeepsAnOwner)
        {
            throw new FailedPreconditionException("A workspace keeps at least one owner: make another member an owner first.");
        }
    }

    private static async Task<Workspace?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"""
            select {WorkspaceColumns} from workspaces w
            join workspace_members m on m.workspace_id = w.id and m.user_id = app_user_id()
            where w.id = @id
            """, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadWorkspace(reader) : null;
    }

    private static Workspace ReadWorkspace(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0).ToString(),
        Name = reader.GetString(1),
        Personal = reader.GetBoolean(2),
        Role = WorkspaceRoles.FromDb(reader.GetString(3)),
        CreatedAt = Timestamp.FromDateTime(reader.GetDateTime(4)),
        Etag = reader.GetInt32(5).ToString(System.Globalization.CultureInfo.InvariantCulture),
        RequiresApproval = reader.GetBoolean(6),
    };

    internal static WorkspaceMember ReadMember(NpgsqlDataReader reader) => new()
    {
        WorkspaceId = reader.GetGuid(0).ToString(),
        UserId = reader.GetGuid(1).ToString(),
        Role = WorkspaceRoles.FromDb(reader.GetString(2)),
        JoinedAt = Timestamp.FromDateTime(reader.GetDateTime(3)),
        Email = reader.IsDBNull(4) ? "" : reader.GetString(4),
    };

}
