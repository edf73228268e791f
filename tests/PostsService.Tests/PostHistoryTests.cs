using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>Every change of a post, who made it and when, read back through ListPostEvents and REST by the workspace's members only.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class PostHistoryTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task A_posts_history_names_each_change_its_author_and_its_fields()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "History" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var editor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);

        var post = await fixture.CreatePostAsync(contributor, channel, "v1");
        await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "v2" } }, contributor.Headers);
        await fixture.Posts.RejectPostAsync(new RejectPostRequest { Id = post.Id, Reason = "Needs a link" }, editor.Headers);
        await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "v3 https://example.com" } },
            contributor.Headers);
        await fixture.Posts.SubmitPostAsync(new SubmitPostRequest { Id = post.Id }, contributor.Headers);
        var pending = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, editor.Headers);
        await fixture.Posts.ApprovePostAsync(new ApprovePostRequest { Id = post.Id, Etag = pending.Etag }, editor.Headers);
        // SocialSync's own steps have no actor: here, an attempt that published it.
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'publishing' where id = @id", ("id", Guid.Parse(post.Id)));
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'published', published_at = now() where id = @id", ("id", Guid.Parse(post.Id)));

        var events = (await fixture.Posts.ListPostEventsAsync(new ListPostEventsRequest { Id = post.Id }, owner.Headers)).Events;
        var (c, e) = (contributor.Id.ToString(), editor.Id.ToString());
        Assert.Equal(
        [
            ("created", c), ("edited", c), ("rejected", e), ("edited", c), ("draft", c), ("submitted", c), ("approved", e), ("published", ""),
        ], events.Select(ev => (ev.Kind, ev.ActorId)));
        Assert.Equal(["content"], events[1].Fields);
        Assert.Equal("Needs a link", events[2].Comment);
        Assert.Equal(PostStatus.Published, events[^1].Status);
        Assert.True(events.Zip(events.Skip(1)).All(pair => pair.First.Time.ToDateTime() <= pair.Second.Time.ToDateTime()), "oldest first");

        var page = await fixture.Posts.ListPostEventsAsync(new ListPostEventsRequest { Id = post.Id, PageSize = 3 }, owner.Headers);
        Assert.Equal(3, page.Events.Count);
        var rest = await fixture.Posts.ListPostEventsAsync(new ListPostEventsRequest { Id = post.Id, PageToken = page.NextPageToken }, owner.Headers);
        Assert.Equal(events.Skip(3).Select(ev => ev.Kind), rest.Events.Select(ev => ev.Kind));
    }

    [Fact]
    public async Task Only_the_workspaces_members_read_a_posts_history_and_REST_serves_it()
    {
        var user = fixture.NewUser();
        var post = await fixture.CreatePostAsync(user, await fixture.CreateWhatsAppChannelAsync(user));
        await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Edited" } }, user.Headers);

        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.ListPostEventsAsync(new ListPostEventsRequest { Id = post.Id }, fixture.NewUser().Headers).ResponseAsync);
        Assert.Equal(0L, await fixture.OwnerScalarAsync("""
            select count(*) from post_events e where e.post_id = @id and e.workspace_id <> @workspace
            """, ("id", Guid.Parse(post.Id)), ("workspace", user.Id)));

        using var rest = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, $"/api/posts/{post.Id}/events", user));
        var body = await rest.Content.ReadAsStringAsync();
        Assert.True(rest.IsSuccessStatusCode, body);
        Assert.Contains("\"kind\":\"edited\"", body.Replace(" ", ""));
    }

}
