using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Invitations into a workspace, by link: made and withdrawn by its members who manage members (<see cref="WorkspaceRoles"/>),
/// accepted by anyone holding the token. Only a token's hash is kept. Every call runs as the caller under row-level
/// security (migration 0013_workspaces.sql); a workspace the caller is not in is absent (null, for NOT_FOUND).
/// </summary>
public sealed class InvitationStore(PostsDatabase database)
{
    private const string InvitationColumns = "id, workspace_id, role, expires_at, invited_by, accepted_by, accepted_at";

    /// <summary>
    /// Invites someone with <paramref name="role"/>: the token is returned once and only its hash kept. Inviting an
    /// owner needs an owner. Null when the caller cannot see the workspace.
    /// </summary>
    public Task<WorkspaceInvitation?> InviteAsync(Guid userId, Guid workspaceId, WorkspaceRole role, DateTimeOffset expiresAt,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, role == WorkspaceRole.Owner ? WorkspaceRoles.ManageOwners : WorkspaceRoles.ManageMembers,
                    role == WorkspaceRole.Owner ? "invite an owner" : "invite members", cancellationToken))
            {
                return null;
            }
            var token = Base64Url(RandomNumberGenerator.GetBytes(32));
            await using var insert = new NpgsqlCommand($"""
                insert into workspace_invitations (workspace_id, token_hash, role, invited_by, expires_at)
                values (@workspace, @hash, @role, app_user_id(), @expires)
                returning {InvitationColumns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("workspace", workspaceId);
            insert.Parameters.AddWithValue("hash", HashToken(token));
            insert.Parameters.AddWithValue("role", role.ToDb());
            insert.Parameters.AddWithValue("expires", expiresAt);
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var invitation = ReadInvitation(reader);
            invitation.Token = token;
            return invitation;
        }, cancellationToken);

    public Task<List<WorkspaceInvitation>?> ListInvitationsAsync(Guid userId, Guid workspaceId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRoles.ManageMembers, "see invitations", cancellationToken))
            {
                return null;
            }
            await using var query = new NpgsqlCommand(
                $"select {InvitationColumns} from workspace_invitations where workspace_id = @workspace order by created_at, id", connection, transaction);
            query.Parameters.AddWithValue("workspace", workspaceId);
            var invitations = new List<WorkspaceInvitation>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                invitations.Add(ReadInvitation(reader));
            }
            return invitations;
        }, cancellationToken);

    /// <summary>Withdraws an invitation nobody accepted; false when the caller cannot see the workspace.</summary>
    public Task<bool> RevokeInvitationAsync(Guid userId, Guid workspaceId, Guid invitationId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireRoleAsync(connection, transaction, workspaceId, WorkspaceRoles.ManageMembers, "revoke invitations", cancellationToken))
            {
                return false;
            }
            await using var delete = new NpgsqlCommand(
                "delete from workspace_invitations where workspace_id = @workspace and id = @id and accepted_at is null", connection, transaction);
            delete.Parameters.AddWithValue("workspace", workspaceId);
            delete.Parameters.AddWithValue("id", invitationId);
            return await delete.ExecuteNonQueryAsync(cancellationToken) == 1
                ? true
                : throw new NotFoundException("invitation", invitationId.ToString());
        }, cancellationToken);

    /// <summary>
    /// The caller joins the invitation's workspace with its role. Unknown, used or expired tokens are NOT_FOUND alike
    /// (nothing tells a guesser which); a member already is refused and the invitation stays unused.
    /// </summary>
    public Task<WorkspaceMember> AcceptAsync(Guid userId, string token, DateTimeOffset now, string? email, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            Guid joinedWorkspace;
            await using (var accept = new NpgsqlCommand("select outcome, workspace from accept_invitation(@hash, @now)", connection, transaction))
            {
                accept.Parameters.AddWithValue("hash", HashToken(token));
                accept.Parameters.AddWithValue("now", now);
                await using var reader = await accept.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                switch (reader.GetString(0))
                {
                    case "not_found":
                        throw new NotFoundException("invitation", "(token)");
                    case "already_member":
                        throw new FailedPreconditionException("The caller is a member of this workspace already; the invitation stays unused.");
                }
                joinedWorkspace = reader.GetGuid(1);
            }
            await WorkspaceStore.RecordEmailAsync(connection, transaction, joinedWorkspace, email, cancellationToken);
            await using var member = new NpgsqlCommand(
                $"select {WorkspaceStore.MemberColumns} from workspace_members where workspace_id = @workspace and user_id = app_user_id()", connection, transaction);
            member.Parameters.AddWithValue("workspace", joinedWorkspace);
            await using var joined = await member.ExecuteReaderAsync(cancellationToken);
            await joined.ReadAsync(cancellationToken);
            return WorkspaceStore.ReadMember(joined);
        }, cancellationToken);

    private static WorkspaceInvitation ReadInvitation(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0).ToString(),
        WorkspaceId = reader.GetGuid(1).ToString(),
        Role = WorkspaceRoles.FromDb(reader.GetString(2)),
        ExpireTime = Timestamp.FromDateTime(reader.GetDateTime(3)),
        InvitedBy = reader.GetGuid(4).ToString(),
        AcceptedBy = reader.IsDBNull(5) ? "" : reader.GetGuid(5).ToString(),
        AcceptTime = reader.IsDBNull(6) ? null : Timestamp.FromDateTime(reader.GetDateTime(6)),
    };

    private static byte[] HashToken(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
