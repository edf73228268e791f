using System.Net;
using System.Text.Json;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>Personal and shared workspaces, invitations, membership changes, and row-level security by membership.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class WorkspaceTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task Members_are_listed_with_the_address_their_token_carried_when_they_created_or_joined_the_workspace()
    {
        var owner = fixture.NewUser();
        var contributor = fixture.NewUser();
        var withoutAddress = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Team" },
            WithEmail(owner, "owner@example.test"));
        var invitation = await fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = WorkspaceRole.Contributor }, owner.Headers);
        await fixture.Workspaces.AcceptInvitationAsync(new AcceptInvitationRequest { Token = invitation.Token }, WithEmail(contributor, "maria@example.test"));
        var second = await fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = WorkspaceRole.Viewer }, owner.Headers);
        await fixture.Workspaces.AcceptInvitationAsync(new AcceptInvitationRequest { Token = second.Token }, withoutAddress.Headers);

        // Every member sees the others' addresses, a contributor too (it may not change membership rows itself).
        var members = (await fixture.Workspaces.ListMembersAsync(new ListMembersRequest { WorkspaceId = workspace.Id }, contributor.Headers)).Members;
        Assert.Equal(
            [(owner.Id.ToString(), "owner@example.test"), (contributor.Id.ToString(), "maria@example.test"), (withoutAddress.Id.ToString(), "")],
            members.Select(m => (m.UserId, m.Email)));
    }

    /// <summary>The user's token with an email claim, as the identity provider issues it with the email scope.</summary>
    private static Metadata WithEmail(TestUser user, string email) => TestTokens.Bearer(
        new SocialSync.ServiceDefaults.Security.TokenIssuer(TestTokens.Users, TimeProvider.System).Create(
            new Dictionary<string, object> { ["sub"] = user.Id.ToString(), ["email"] = email }, TimeSpan.FromHours(1)));

    [Fact]
    public async Task A_new_user_has_a_personal_workspace_with_their_own_id_which_calls_without_a_workspace_use()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);

        var workspaces = (await fixture.Workspaces.ListWorkspacesAsync(new ListWorkspacesRequest(), user.Headers)).Workspaces;
        var personal = Assert.Single(workspaces);
        Assert.Equal(user.Id.ToString(), personal.Id);
        Assert.True(personal.Personal);
        Assert.Equal(WorkspaceRole.Owner, personal.Role);
        Assert.Equal(personal.Id, channel.WorkspaceId);
        Assert.Equal(personal.Id, post.WorkspaceId);
    }

    [Fact]
    public async Task An_invitation_is_single_use_and_an_expired_or_unknown_one_is_NOT_FOUND()
    {
        var (owner, workspace) = await NewTeamAsync();
        var invitation = await fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = WorkspaceRole.Editor }, owner.Headers);
        Assert.NotEmpty(invitation.Token);

        var first = fixture.NewUser();
        var joined = await fixture.Workspaces.AcceptInvitationAsync(new AcceptInvitationRequest { Token = invitation.Token }, first.Headers);
        Assert.Equal(WorkspaceRole.Editor, joined.Role);
        Assert.Equal(first.Id.ToString(), joined.UserId);

        await Expect.Status(StatusCode.NotFound, () => fixture.Workspaces.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = invitation.Token }, fixture.NewUser().Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Workspaces.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = "no-such-token" }, fixture.NewUser().Headers).ResponseAsync);

        var stale = await fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = WorkspaceRole.Viewer }, owner.Headers);
        await fixture.OwnerScalarAsync("update workspace_invitations set expires_at = now() - interval '1 minute' where id = @id",
            ("id", Guid.Parse(stale.Id)));
        await Expect.Status(StatusCode.NotFound, () => fixture.Workspaces.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = stale.Token }, fixture.NewUser().Headers).ResponseAsync);

        var listed = (await fixture.Workspaces.ListInvitationsAsync(new ListInvitationsRequest { WorkspaceId = workspace.Id }, owner.Headers)).Invitations;
        Assert.Equal(first.Id.ToString(), listed.Single(i => i.Id == invitation.Id).AcceptedBy);
        Assert.All(listed, i => Assert.Empty(i.Token));
        // Only a hash of the token is stored.
        Assert.Equal(0L, await fixture.OwnerScalarAsync("select count(*) from workspace_invitations where convert_to(@token, 'UTF8') = token_hash",
            ("token", invitation.Token)));
    }

    [Fact]
    public async Task A_member_who_accepts_again_is_refused_and_the_invitation_stays_unused()
    {
        var (owner, workspace) = await NewTeamAsync();
        var invitation = await fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = workspace.Id, Role = WorkspaceRole.Admin }, owner.Headers);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Workspaces.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = invitation.Token }, owner.Headers).ResponseAsync);
        var other = fixture.NewUser();
        Assert.Equal(WorkspaceRole.Admin, (await fixture.Workspaces.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = invitation.Token }, other.Headers)).Role);
    }

    [Fact]
    public async Task The_last_owner_cannot_leave_or_step_down_until_another_owner_exists()
    {
        var (owner, workspace) = await NewTeamAsync();
        var ownerId = owner.Id.ToString();
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Workspaces.RemoveMemberAsync(
            new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = ownerId }, owner.Headers).ResponseAsync);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Workspaces.UpdateMemberAsync(
            new UpdateMemberRequest { WorkspaceId = workspace.Id, UserId = ownerId, Role = WorkspaceRole.Admin }, owner.Headers).ResponseAsync);

        var second = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Admin);
        await fixture.Workspaces.UpdateMemberAsync(
            new UpdateMemberRequest { WorkspaceId = workspace.Id, UserId = second.Id.ToString(), Role = WorkspaceRole.Owner }, owner.Headers);
        await fixture.Workspaces.RemoveMemberAsync(new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = ownerId }, owner.Headers);

        await Expect.Status(StatusCode.NotFound, () => fixture.Workspaces.GetWorkspaceAsync(new GetWorkspaceRequest { Id = workspace.Id }, owner.Headers).ResponseAsync);
        var members = (await fixture.Workspaces.ListMembersAsync(new ListMembersRequest { WorkspaceId = workspace.Id }, second.Headers)).Members;
        Assert.Equal([(second.Id.ToString(), WorkspaceRole.Owner)], members.Select(m => (m.UserId, m.Role)));
    }

    [Fact]
    public async Task An_admin_cannot_make_unmake_or_remove_an_owner()
    {
        var (owner, workspace) = await NewTeamAsync();
        var admin = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Admin);
        var editor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor);
        var h = admin.Headers;
        var refused = await Expect.Status(StatusCode.PermissionDenied, () => fixture.Workspaces.UpdateMemberAsync(
            new UpdateMemberRequest { WorkspaceId = workspace.Id, UserId = editor.Id.ToString(), Role = WorkspaceRole.Owner }, h).ResponseAsync);
        Assert.Contains("the owner role", refused.Status.Detail);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Workspaces.UpdateMemberAsync(
            new UpdateMemberRequest { WorkspaceId = workspace.Id, UserId = owner.Id.ToString(), Role = WorkspaceRole.Viewer }, h).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Workspaces.RemoveMemberAsync(
            new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = owner.Id.ToString() }, h).ResponseAsync);
        // An admin does manage everyone else, and anyone may leave.
        await fixture.Workspaces.RemoveMemberAsync(new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = editor.Id.ToString() }, h);
        await fixture.Workspaces.RemoveMemberAsync(new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = admin.Id.ToString() }, h);
        Assert.Single((await fixture.Workspaces.ListMembersAsync(new ListMembersRequest { WorkspaceId = workspace.Id }, owner.Headers)).Members);
    }

    [Fact]
    public async Task Members_share_a_workspaces_posts_and_a_removed_member_loses_them()
    {
        var (owner, workspace) = await NewTeamAsync();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var post = await fixture.CreatePostAsync(owner, channel);
        var editor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor);

        var edited = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Edited by a teammate" } },
            editor.Headers);
        Assert.Equal("Edited by a teammate", edited.Content.Text);
        var listed = await fixture.Posts.ListPostsAsync(new ListPostsRequest { WorkspaceId = workspace.Id }, editor.Headers);
        Assert.Equal([post.Id], listed.Posts.Select(p => p.Id));
        // The editor's own personal workspace is listed apart.
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest { WorkspaceId = editor.Id.ToString() }, editor.Headers)).Posts);

        await fixture.Workspaces.RemoveMemberAsync(new RemoveMemberRequest { WorkspaceId = workspace.Id, UserId = editor.Id.ToString() }, owner.Headers);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, editor.Headers).ResponseAsync);
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), editor.Headers)).Posts);
    }

    [Fact]
    public async Task Row_level_security_by_membership_and_role_holds_without_the_applications_filters()
    {
        var (owner, workspace) = await NewTeamAsync();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        await fixture.CreatePostAsync(owner, channel);
        await fixture.CreatePostAsync(owner, channel);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var editor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor);
        var outsider = fixture.NewUser();
        await fixture.CreatePostAsync(outsider, await fixture.CreateWhatsAppChannelAsync(outsider));

        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        async Task<long> AsAsync(TestUser user, string sql)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var set = new NpgsqlCommand("select set_config('app.user_id', @u, true)", connection, transaction))
            {
                set.Parameters.AddWithValue("u", user.Id.ToString());
                await set.ExecuteNonQueryAsync();
            }
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("workspace", Guid.Parse(workspace.Id));
            command.Parameters.AddWithValue("channel", Guid.Parse(channel.Id));
            command.Parameters.AddWithValue("me", user.Id);
            var result = await command.ExecuteScalarAsync();
            await transaction.RollbackAsync();
            return Convert.ToInt64(result ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
        }
        const string Touch = "with t as (update scheduled_posts set error_message = 'x' returning 1) select count(*) from t";
        const string Insert = """
            insert into scheduled_posts (user_id, workspace_id, channel_id, platform, content_json, publish_at, due_at)
            values (@me, @workspace, @channel, 'whatsapp', '{"text":"x","media":[]}', now() + interval '1 hour', now() + interval '1 hour')
            returning 1
            """;

        // No WHERE clause names a workspace or a user: the policies alone decide.
        Assert.Equal(2, await AsAsync(viewer, "select count(*) from scheduled_posts"));
        Assert.Equal(1, await AsAsync(viewer, "select count(*) from channels"));
        Assert.Equal(0, await AsAsync(viewer, Touch));
        Assert.Equal(2, await AsAsync(editor, Touch));
        Assert.Equal(1, await AsAsync(editor, Insert));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege,
            (await Assert.ThrowsAsync<PostgresException>(() => AsAsync(viewer, Insert))).SqlState);
        // An editor may lock the channel to post on it, but not change it.
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege,
            (await Assert.ThrowsAsync<PostgresException>(() => AsAsync(editor, "with t as (update channels set display_name = 'x' returning 1) select count(*) from t"))).SqlState);
        Assert.Equal(1, await AsAsync(outsider, "select count(*) from scheduled_posts"));
        Assert.Equal(0, await AsAsync(outsider, "select count(*) from workspace_members where workspace_id = @workspace"));
        // A member cannot write themselves a higher role.
        Assert.Equal(0, await AsAsync(editor, "with t as (update workspace_members set role = 'owner' where user_id = @me returning 1) select count(*) from t"));
    }

    [Fact]
    public async Task Workspaces_members_and_invitations_have_REST_routes()
    {
        var owner = fixture.NewUser();
        using var created = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, "/api/workspaces", owner, """{"name":"Over REST"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var workspaceId = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        using var invited = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, $"/api/workspaces/{workspaceId}/invitations", owner, """{"role":"EDITOR"}"""));
        Assert.Equal(HttpStatusCode.Created, invited.StatusCode);
        var token = JsonDocument.Parse(await invited.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString();

        var member = fixture.NewUser();
        using var accepted = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, "/api/invitations:accept", member, $$"""{"token":"{{token}}"}"""));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        using var members = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, $"/api/workspaces/{workspaceId}/members", member));
        var roles = JsonDocument.Parse(await members.Content.ReadAsStringAsync()).RootElement.GetProperty("members").EnumerateArray()
            .Select(m => m.GetProperty("role").GetString()).Order().ToList();
        Assert.Equal(["EDITOR", "OWNER"], roles);

        using var denied = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Patch, $"/api/workspaces/{workspaceId}", member, """{"name":"Mine now"}"""));
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        using var hidden = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, $"/api/workspaces/{workspaceId}", fixture.NewUser()));
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
    }

    [Fact]
    public async Task Bad_workspace_requests_name_their_field()
    {
        var user = fixture.NewUser();
        await Expect.BadFields(() => fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = " " }, user.Headers).ResponseAsync, "name");
        await Expect.BadFields(() => fixture.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = "x", ExpiresIn = 5 }, user.Headers).ResponseAsync, "workspace_id", "role", "expires_in");
        await Expect.BadFields(() => fixture.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            WorkspaceId = "not-a-uuid", Platform = Platform.Whatsapp, AccountId = "1", AccessToken = "t",
        }, user.Headers).ResponseAsync, "workspace_id");
        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            WorkspaceId = Guid.NewGuid().ToString(), Platform = Platform.Whatsapp, AccountId = "1", AccessToken = "t",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, user.Headers).ResponseAsync);
    }

    private async Task<(TestUser Owner, Workspace Workspace)> NewTeamAsync()
    {
        var owner = fixture.NewUser();
        return (owner, await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Team" }, owner.Headers));
    }


}
