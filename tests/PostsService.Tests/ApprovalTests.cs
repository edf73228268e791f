using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// Drafts and approval: who must be approved, that an approval is bound to the version reviewed and to what will be
/// published, and what happens to a post whose time passes while it waits.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class ApprovalTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task A_contributors_post_waits_for_an_editor_and_is_queued_once_approved()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "Launch day");
        Assert.Equal(PostStatus.PendingApproval, post.Status);
        Assert.True(post.NeedsApproval);
        Assert.Equal(team.Contributor.Id.ToString(), post.AuthorId);

        var approved = await fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id, Etag = post.Etag }, team.Editor.Headers);
        Assert.Equal(PostStatus.Queued, approved.Status);
        Assert.Equal(team.Editor.Id.ToString(), approved.ApprovedBy);
        Assert.Equal("Launch day", approved.Content.Text);
    }

    [Fact]
    public async Task No_one_approves_their_own_post()
    {
        var team = await TeamAsync(requiresApproval: true);
        var own = await CreateAsync(team.Editor, team.Channel, "Mine");
        Assert.Equal(PostStatus.PendingApproval, own.Status);
        var refused = await Expect.Status(StatusCode.PermissionDenied, () => fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = own.Id, Etag = own.Etag }, team.Editor.Headers).ResponseAsync);
        Assert.Contains("own post", refused.Status.Detail);
        Assert.Equal(PostStatus.Queued, (await fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = own.Id, Etag = own.Etag }, team.Owner.Headers)).Status);
    }

    [Fact]
    public async Task An_approval_applies_to_the_version_reviewed_and_needs_its_etag()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "First words");
        var edited = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Second words" } },
            team.Contributor.Headers);
        Assert.Equal(PostStatus.PendingApproval, edited.Status);
        await Expect.Status(StatusCode.Aborted, () => fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = post.Id, Etag = post.Etag }, team.Editor.Headers).ResponseAsync);
        await Expect.BadFields(() => fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id }, team.Editor.Headers).ResponseAsync, "etag");
        Assert.Equal("Second words", (await fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = post.Id, Etag = edited.Etag }, team.Editor.Headers)).Content.Text);
    }

    [Fact]
    public async Task Any_edit_of_what_an_approved_post_publishes_returns_it_to_pending_approval()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "Approved words");
        var approved = await fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id, Etag = post.Etag }, team.Editor.Headers);

        var later = Timestamp.FromDateTimeOffset(approved.PublishAt.ToDateTimeOffset().AddHours(1));
        var moved = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, PublishAt = later }, team.Owner.Headers);
        Assert.Equal(PostStatus.PendingApproval, moved.Status);
        Assert.Empty(moved.ApprovedBy);

        var again = await fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id, Etag = moved.Etag }, team.Editor.Headers);
        var rewritten = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Other words" } },
            team.Owner.Headers);
        Assert.Equal(PostStatus.PendingApproval, rewritten.Status);
        Assert.Equal(PostStatus.Queued, again.Status);

        // Not even a statement that sets the status itself can queue an unapproved version: the database holds it.
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'queued' where id = @id", ("id", Guid.Parse(post.Id)));
        Assert.Equal(PostStatus.PendingApproval, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, team.Owner.Headers)).Status);
    }

    [Fact]
    public async Task An_approved_series_stays_approved_from_one_occurrence_to_the_next_and_an_edit_of_one_needs_a_new_approval()
    {
        var team = await TeamAsync();
        var first = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = team.Channel.Id,
            Content = new Content { Text = "Every day" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            Rrule = "FREQ=DAILY",
        }, team.Contributor.Headers);
        await fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = first.Id, Etag = first.Etag }, team.Editor.Headers);

        await fixture.FinishAsync(first.Id, OutcomeKind.Published);
        var next = (await fixture.Posts.ListPostsAsync(new ListPostsRequest { WorkspaceId = team.Workspace.Id }, team.Owner.Headers)).Posts
            .Single(p => p.SeriesId == first.Id && p.Id != first.Id);
        Assert.Equal(PostStatus.Queued, next.Status);
        Assert.True(next.NeedsApproval);
        Assert.Equal(team.Editor.Id.ToString(), next.ApprovedBy);

        var edited = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = next.Id, Content = new Content { Text = "Every day, louder" } },
            team.Owner.Headers);
        Assert.Equal(PostStatus.PendingApproval, edited.Status);
    }

    [Fact]
    public async Task An_edit_racing_an_approval_never_leaves_an_unapproved_version_queued()
    {
        var team = await TeamAsync();
        var outcomes = new Dictionary<string, int>();
        for (var round = 0; round < 20; round++)
        {
            var post = await CreateAsync(team.Contributor, team.Channel, $"Reviewed {round}");
            var approve = fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id, Etag = post.Etag }, team.Editor.Headers).ResponseAsync;
            var edit = fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = $"Unreviewed {round}" } },
                team.Owner.Headers).ResponseAsync;
            var approved = await Succeeded(approve);
            var edited = await Succeeded(edit);
            Assert.True(approved || edited, "one of the two wins");

            var final = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, team.Owner.Headers);
            if (final.Status == PostStatus.Queued)
            {
                Assert.Equal($"Reviewed {round}", final.Content.Text);
            }
            else
            {
                Assert.Equal(PostStatus.PendingApproval, final.Status);
            }
            // What a claim would take (queued) is exactly what was approved: its hash matches the approved one.
            Assert.Equal(0L, await fixture.OwnerScalarAsync("""
                select count(*) from scheduled_posts where id = @id and status = 'queued'
                  and approved_hash is distinct from publish_hash(content_json, channel_id, coalesce(series_start, publish_at), recipients, rrule, time_zone)
                """, ("id", Guid.Parse(post.Id))));
            var key = $"{(approved ? "approved" : "approve lost")}, {(edited ? "edited" : "edit lost")} -> {final.Status}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
        }
        Assert.NotEmpty(outcomes);
    }

    [Fact]
    public async Task Approving_a_post_whose_time_passed_asks_for_a_new_time()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "Late");
        // Its time passes while it waits (due later, so the expiry sweep leaves it for this test).
        await fixture.OwnerScalarAsync("update scheduled_posts set publish_at = now() - interval '1 minute', due_at = now() + interval '1 hour' where id = @id",
            ("id", Guid.Parse(post.Id)));
        var late = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, team.Editor.Headers);
        var refused = await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = post.Id, Etag = late.Etag }, team.Editor.Headers).ResponseAsync);
        Assert.Contains("new publish_at", refused.Status.Detail);
        await Expect.BadFields(() => fixture.Posts.ApprovePostAsync(new ApprovePostRequest
        {
            Id = post.Id, Etag = late.Etag, PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMinutes(-5)),
        }, team.Editor.Headers).ResponseAsync, "publish_at");

        var newTime = DateTimeOffset.UtcNow.AddHours(2);
        var approved = await fixture.Posts.ApprovePostAsync(new ApprovePostRequest
        {
            Id = post.Id, Etag = late.Etag, PublishAt = Timestamp.FromDateTimeOffset(newTime),
        }, team.Editor.Headers);
        Assert.Equal(PostStatus.Queued, approved.Status);
        Assert.Equal(newTime.ToUnixTimeSeconds(), approved.PublishAt.ToDateTimeOffset().ToUnixTimeSeconds());
    }

    [Fact]
    public async Task A_post_whose_time_passes_while_it_waits_expires_and_is_never_queued()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "Waited too long");
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() - interval '1 second' where id = @id", ("id", Guid.Parse(post.Id)));

        var expired = await UntilAsync(post.Id, team.Contributor, p => p.Status == PostStatus.Expired);
        Assert.Contains("waited for approval", expired.ErrorMessage);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = post.Id, Etag = expired.Etag }, team.Editor.Headers).ResponseAsync);
        // A new time makes it the author's draft again; submitting it asks for a new approval.
        var redrafted = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = post.Id, PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, team.Contributor.Headers);
        Assert.Equal(PostStatus.Draft, redrafted.Status);
        Assert.Equal(PostStatus.PendingApproval, (await fixture.Posts.SubmitPostAsync(new SubmitPostRequest { Id = post.Id }, team.Contributor.Headers)).Status);
    }

    [Fact]
    public async Task A_rejected_post_goes_back_to_its_author_with_the_reason()
    {
        var team = await TeamAsync();
        var post = await CreateAsync(team.Contributor, team.Channel, "Too loud!!!");
        await Expect.BadFields(() => fixture.Posts.RejectPostAsync(new RejectPostRequest { Id = post.Id }, team.Editor.Headers).ResponseAsync, "reason");
        var rejected = await fixture.Posts.RejectPostAsync(new RejectPostRequest { Id = post.Id, Reason = "Tone it down" }, team.Editor.Headers);
        Assert.Equal(PostStatus.Rejected, rejected.Status);
        Assert.Equal("Tone it down", rejected.ReviewComment);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.ApprovePostAsync(
            new ApprovePostRequest { Id = post.Id, Etag = rejected.Etag }, team.Editor.Headers).ResponseAsync);

        var redrafted = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Calmer." } },
            team.Contributor.Headers);
        Assert.Equal(PostStatus.Draft, redrafted.Status);
        var resubmitted = await fixture.Posts.SubmitPostAsync(new SubmitPostRequest { Id = post.Id }, team.Contributor.Headers);
        Assert.Equal(PostStatus.PendingApproval, resubmitted.Status);
        Assert.Empty(resubmitted.ReviewComment);
    }

    [Fact]
    public async Task A_draft_is_kept_unscheduled_until_it_is_submitted()
    {
        var team = await TeamAsync();
        var draft = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = team.Channel.Id,
            Content = new Content { Text = "Someday" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            Draft = true,
        }, team.Editor.Headers);
        Assert.Equal(PostStatus.Draft, draft.Status);
        // Not in what the scheduler's index is rebuilt from.
        var queued = await fixture.Internal.ListQueuedPostsAsync(new ListQueuedPostsRequest { PageSize = 1000 }, SocialSync.Testing.TestTokens.ForService());
        Assert.DoesNotContain(queued.Posts, p => p.PostId == draft.Id);
        // An editor's post needs no approval here: submitting queues it.
        Assert.Equal(PostStatus.Queued, (await fixture.Posts.SubmitPostAsync(new SubmitPostRequest { Id = draft.Id }, team.Editor.Headers)).Status);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.SubmitPostAsync(new SubmitPostRequest { Id = draft.Id }, team.Editor.Headers).ResponseAsync);
    }

    [Fact]
    public async Task The_workspace_setting_makes_every_post_need_approval()
    {
        var team = await TeamAsync();
        Assert.Equal(PostStatus.Queued, (await CreateAsync(team.Editor, team.Channel, "Before")).Status);
        var workspace = await fixture.Workspaces.UpdateWorkspaceAsync(new UpdateWorkspaceRequest { Id = team.Workspace.Id, RequiresApproval = true },
            team.Owner.Headers);
        Assert.True(workspace.RequiresApproval);
        Assert.Equal("Team", workspace.Name);
        Assert.Equal(PostStatus.PendingApproval, (await CreateAsync(team.Editor, team.Channel, "After")).Status);
        Assert.Equal(PostStatus.PendingApproval, (await CreateAsync(team.Owner, team.Channel, "Even the owner's")).Status);
    }

    private sealed record Team(TestUser Owner, TestUser Editor, TestUser Contributor, Workspace Workspace, Channel Channel);

    private async Task<Team> TeamAsync(bool requiresApproval = false)
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Team" }, owner.Headers);
        if (requiresApproval)
        {
            workspace = await fixture.Workspaces.UpdateWorkspaceAsync(new UpdateWorkspaceRequest { Id = workspace.Id, RequiresApproval = true }, owner.Headers);
        }
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        return new Team(owner, await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor), await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor),
            workspace, channel);
    }


    private Task<ScheduledPost> CreateAsync(TestUser author, Channel channel, string text) =>
        fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = text },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, author.Headers).ResponseAsync;

    private async Task<ScheduledPost> UntilAsync(string id, TestUser user, Func<ScheduledPost, bool> done)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (true)
        {
            var post = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = id }, user.Headers);
            if (done(post) || DateTimeOffset.UtcNow > deadline)
            {
                Assert.True(done(post), $"post {id} is {post.Status} after 30 s");
                return post;
            }
            await Task.Delay(200);
        }
    }

    private static async Task<bool> Succeeded(Task call)
    {
        try
        {
            await call;
            return true;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Aborted or StatusCode.FailedPrecondition)
        {
            return false;
        }
    }
}
