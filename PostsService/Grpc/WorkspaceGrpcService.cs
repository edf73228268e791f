using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The public workspace API: each call parses its request, calls <see cref="WorkspaceStore"/> or <see cref="InvitationStore"/> and answers. A
/// workspace the caller is not a member of is NOT_FOUND; a role too low is PERMISSION_DENIED naming the role needed.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class WorkspaceGrpcService(WorkspaceStore workspaces, InvitationStore invitations, TimeProvider time) : WorkspaceService.WorkspaceServiceBase
{
    private const int MaxNameLength = 100;
    private static readonly TimeSpan DefaultInvitationLifetime = TimeSpan.FromDays(7);
    private static readonly TimeSpan MaxInvitationLifetime = TimeSpan.FromDays(30);

    public override async Task<Workspace> CreateWorkspace(CreateWorkspaceRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var name = ParseName(request.Name, violations);
        violations.ThrowIfAny();
        return await workspaces.CreateAsync(context.UserId(), name, context.UserEmail(), context.CancellationToken);
    }

    public override async Task<Workspace> GetWorkspace(GetWorkspaceRequest request, ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        return await workspaces.GetAsync(context.UserId(), id, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.Id);
    }

    public override async Task<ListWorkspacesResponse> ListWorkspaces(ListWorkspacesRequest request, ServerCallContext context) =>
        new() { Workspaces = { await workspaces.ListAsync(context.UserId(), context.CancellationToken) } };

    public override async Task<Workspace> UpdateWorkspace(UpdateWorkspaceRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var name = request.Name.Length > 0 ? ParseName(request.Name, violations) : null;
        bool? requiresApproval = request.HasRequiresApproval ? request.RequiresApproval : null;
        if (name is null && requiresApproval is null)
        {
            violations.Add("name", "or requires_approval is required: nothing to change");
        }
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        violations.ThrowIfAny();
        return await workspaces.UpdateAsync(context.UserId(), id!.Value, name, requiresApproval, etag, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.Id);
    }

    public override async Task<ListMembersResponse> ListMembers(ListMembersRequest request, ServerCallContext context)
    {
        var workspaceId = RequestFields.RequireId(request.WorkspaceId, "workspace_id");
        var members = await workspaces.ListMembersAsync(context.UserId(), workspaceId, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.WorkspaceId);
        return new ListMembersResponse { Members = { members } };
    }

    public override async Task<WorkspaceMember> UpdateMember(UpdateMemberRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations);
        var memberId = RequestFields.ParseId(request.UserId, "user_id", violations);
        var role = ParseRole(request.Role, "role", violations);
        violations.ThrowIfAny();
        return await workspaces.UpdateMemberAsync(context.UserId(), workspaceId!.Value, memberId!.Value, role, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.WorkspaceId);
    }

    public override async Task<Empty> RemoveMember(RemoveMemberRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations);
        var memberId = RequestFields.ParseId(request.UserId, "user_id", violations);
        violations.ThrowIfAny();
        return await workspaces.RemoveMemberAsync(context.UserId(), workspaceId!.Value, memberId!.Value, context.CancellationToken)
            ? new Empty()
            : throw new NotFoundException("workspace", request.WorkspaceId);
    }

    public override async Task<WorkspaceInvitation> CreateInvitation(CreateInvitationRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations);
        var role = ParseRole(request.Role, "role", violations);
        var lifetime = request.ExpiresIn == 0 ? DefaultInvitationLifetime : TimeSpan.FromSeconds(request.ExpiresIn);
        if (request.ExpiresIn < 0 || (request.ExpiresIn != 0 && (lifetime < TimeSpan.FromDays(1) || lifetime > MaxInvitationLifetime)))
        {
            violations.Add("expires_in", $"must be between {TimeSpan.FromDays(1).TotalSeconds:0} and {MaxInvitationLifetime.TotalSeconds:0} seconds (1 to 30 days), or 0 for 7 days");
        }
        violations.ThrowIfAny();
        return await invitations.InviteAsync(context.UserId(), workspaceId!.Value, role, time.GetUtcNow() + lifetime, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.WorkspaceId);
    }

    public override async Task<ListInvitationsResponse> ListInvitations(ListInvitationsRequest request, ServerCallContext context)
    {
        var workspaceId = RequestFields.RequireId(request.WorkspaceId, "workspace_id");
        var listed = await invitations.ListInvitationsAsync(context.UserId(), workspaceId, context.CancellationToken)
            ?? throw new NotFoundException("workspace", request.WorkspaceId);
        return new ListInvitationsResponse { Invitations = { listed } };
    }

    public override async Task<Empty> RevokeInvitation(RevokeInvitationRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations);
        var id = RequestFields.ParseId(request.Id, "id", violations);
        violations.ThrowIfAny();
        return await invitations.RevokeInvitationAsync(context.UserId(), workspaceId!.Value, id!.Value, context.CancellationToken)
            ? new Empty()
            : throw new NotFoundException("workspace", request.WorkspaceId);
    }

    public override async Task<WorkspaceMember> AcceptInvitation(AcceptInvitationRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Token) || request.Token.Length > 200)
        {
            throw FieldViolations.Single("token", "is required (the invitation's token, as CreateInvitation gave it)");
        }
        return await invitations.AcceptAsync(context.UserId(), request.Token, time.GetUtcNow(), context.UserEmail(), context.CancellationToken);
    }

    private static string ParseName(string name, FieldViolations violations)
    {
        var trimmed = name.Trim();
        if (trimmed.Length is 0 or > MaxNameLength)
        {
            violations.Add("name", $"is required (at most {MaxNameLength} characters)");
        }
        return trimmed;
    }

    private static WorkspaceRole ParseRole(WorkspaceRole role, string field, FieldViolations violations)
    {
        if (role == WorkspaceRole.Unspecified || !System.Enum.IsDefined(role))
        {
            violations.Add(field, "must be one of owner, admin, editor, contributor, viewer");
        }
        return role;
    }
}
