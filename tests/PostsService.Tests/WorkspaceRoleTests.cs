using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// Every workspace role against every action a member can take, through the public API: each either succeeds or is
/// PERMISSION_DENIED naming the role it needs; someone outside the workspace gets NOT_FOUND for all of them.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class WorkspaceRoleTests(PostsServiceFixture fixture)
{
    /// <summary>
    /// A shared workspace owned by <see cref="Owner"/>, with a channel, and one member; the owner's queued post, draft,
    /// and post pending approval (on a second channel whose posts need it).
    /// </summary>
    private sealed record Team(TestUser Owner, TestUser Member, Workspace Workspace, Channel Channel, ScheduledPost Post, ScheduledPost Draft,
        ScheduledPost Pending);

    private delegate Task Action(PostsServiceFixture fixture, Team team, Metadata caller);

    private static readonly Dictionary<string, (Action Act, WorkspaceRole Needs)> Actions = new()
    {
        ["read posts"] = ((f, t, h) => f.Posts.GetPostAsync(new GetPostRequest { Id = t.Post.Id }, h).ResponseAsync, WorkspaceRole.Viewer),
        ["read channels"] = ((f, t, h) => f.Channels.GetChannelAsync(new GetChannelRequest { Id = t.Channel.Id }, h).ResponseAsync, WorkspaceRole.Viewer),
        ["list members"] = ((f, t, h) => f.Workspaces.ListMembersAsync(new ListMembersRequest { WorkspaceId = t.Workspace.Id }, h).ResponseAsync,
            WorkspaceRole.Viewer),
        ["create post"] = ((f, t, h) => f.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = t.Channel.Id,
            Content = new Content { Text = "By a member" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
        }, h).ResponseAsync, WorkspaceRole.Contributor),
        ["batch create posts"] = ((f, t, h) => f.Posts.BatchCreatePostsAsync(new BatchCreatePostsRequest
        {
            Requests =
            {
                new CreatePostRequest
                {
                    ChannelId = t.Channel.Id,
                    Content = new Content { Text = "By a member, in a batch" },
                    PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
                },
            },
        }, h).ResponseAsync, WorkspaceRole.Contributor),
        ["edit post"] = ((f, t, h) => f.Posts.UpdatePostAsync(new UpdatePostRequest { Id = t.Post.Id, Content = new Content { Text = "Edited" } }, h).ResponseAsync,
            WorkspaceRole.Editor),
        ["cancel post"] = ((f, t, h) => f.Posts.CancelPostAsync(new CancelPostRequest { Id = t.Post.Id }, h).ResponseAsync, WorkspaceRole.Editor),
        ["delete post"] = ((f, t, h) => f.Posts.DeletePostAsync(new DeletePostRequest { Id = t.Post.Id }, h).ResponseAsync, WorkspaceRole.Editor),
        ["submit a draft"] = ((f, t, h) => f.Posts.SubmitPostAsync(new SubmitPostRequest { Id = t.Draft.Id }, h).ResponseAsync, WorkspaceRole.Editor),
        ["approve post"] = ((f, t, h) => f.Posts.ApprovePostAsync(new ApprovePostRequest { Id = t.Pending.Id, Etag = t.Pending.Etag }, h).ResponseAsync,
            WorkspaceRole.Editor),
        ["reject post"] = ((f, t, h) => f.Posts.RejectPostAsync(new RejectPostRequest { Id = t.Pending.Id, Reason = "Off brand" }, h).ResponseAsync,
            WorkspaceRole.Editor),
        ["add channel"] = ((f, t, h) => f.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            WorkspaceId = t.Workspace.Id,
            Platform = Platform.Whatsapp,
            AccountId = "10" + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999),
            AccessToken = "EAAG-team-token",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, h).ResponseAsync, WorkspaceRole.Admin),
        ["pause channel"] = ((f, t, h) => f.Channels.PauseChannelAsync(new PauseChannelRequest { Id = t.Channel.Id }, h).ResponseAsync, WorkspaceRole.Admin),
        ["rename channel"] = ((f, t, h) => f.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = t.Channel.Id, DisplayName = "Renamed" }, h).ResponseAsync,
            WorkspaceRole.Admin),
        ["delete channel"] = ((f, t, h) => f.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = t.Channel.Id }, h).ResponseAsync, WorkspaceRole.Admin),
        ["invite member"] = ((f, t, h) => f.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = t.Workspace.Id, Role = WorkspaceRole.Editor }, h).ResponseAsync, WorkspaceRole.Admin),
        ["change member role"] = ((f, t, h) => f.Workspaces.UpdateMemberAsync(
            new UpdateMemberRequest { WorkspaceId = t.Workspace.Id, UserId = t.Member.Id.ToString(), Role = WorkspaceRole.Viewer }, h).ResponseAsync,
            WorkspaceRole.Admin),
        ["rename workspace"] = ((f, t, h) => f.Workspaces.UpdateWorkspaceAsync(
            new UpdateWorkspaceRequest { Id = t.Workspace.Id, Name = "Renamed team" }, h).ResponseAsync, WorkspaceRole.Admin),
        ["invite an owner"] = ((f, t, h) => f.Workspaces.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = t.Workspace.Id, Role = WorkspaceRole.Owner }, h).ResponseAsync, WorkspaceRole.Owner),
    };

    private static readonly WorkspaceRole[] Roles =
        [WorkspaceRole.Owner, WorkspaceRole.Admin, WorkspaceRole.Editor, WorkspaceRole.Contributor, WorkspaceRole.Viewer];

    public static TheoryData<string, WorkspaceRole> EveryRoleAndAction()
    {
        var data = new TheoryData<string, WorkspaceRole>();
        foreach (var action in Actions.Keys)
        {
            foreach (var role in Roles)
            {
                data.Add(action, role);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryRoleAndAction))]
    public async Task Each_role_may_do_what_its_rank_allows_and_is_refused_naming_the_role_needed(string action, WorkspaceRole role)
    {
        var team = await TeamWithMemberAsync(role);
        var (act, needs) = Actions[action];
        // The enum runs from owner (1) down to viewer (5): a role allows what every role below it allows.
        if (role <= needs)
        {
            await act(fixture, team, team.Member.Headers);
            return;
        }
        var refused = await Expect.Status(StatusCode.PermissionDenied, () => act(fixture, team, team.Member.Headers));
        var needed = needs.ToString().ToLowerInvariant();
        Assert.Contains($"the {needed} role", refused.Status.Detail);
    }

    [Theory]
    [MemberData(nameof(EveryAction))]
    public async Task Someone_outside_the_workspace_gets_NOT_FOUND(string action)
    {
        var team = await TeamWithMemberAsync(WorkspaceRole.Viewer);
        var outsider = fixture.NewUser();
        await Expect.Status(StatusCode.NotFound, () => Actions[action].Act(fixture, team, outsider.Headers));
    }

    public static TheoryData<string> EveryAction() => new(Actions.Keys);

    private async Task<Team> TeamWithMemberAsync(WorkspaceRole role)
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Agency" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var post = await fixture.CreatePostAsync(owner, channel);
        var draft = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "A draft" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(3)),
            Draft = true,
        }, owner.Headers);
        var reviewed = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace, requiresApproval: true);
        var pending = await fixture.CreatePostAsync(owner, reviewed);
        Assert.Equal(PostStatus.PendingApproval, pending.Status);
        return new Team(owner, await fixture.JoinAsync(owner, workspace, role), workspace, channel, post, draft, pending);
    }
}
