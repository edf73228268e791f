using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

[Collection(PostsServiceCollection.Name)]
public sealed class PostsApiTests(PostsServiceFixture fixture)
{
    private static Timestamp InHours(double hours) => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(hours));

    [Fact]
    public async Task CreatePost_returns_a_queued_post_with_no_retries_and_GetPost_reads_it_back()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var publishAt = InHours(2);
        var created = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Hello", Media = { new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" } } },
            PublishAt = publishAt,
            TimeZone = "europe/paris",
        }, user.Headers);

        Assert.Equal(PostStatus.Queued, created.Status);
        Assert.Equal(0, created.RetryCount);
        Assert.Equal(Platform.Whatsapp, created.Platform);
        Assert.Equal("Europe/Paris", created.TimeZone);
        Assert.Equal(publishAt.ToDateTimeOffset(), created.PublishAt.ToDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        var read = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = created.Id }, user.Headers);
        Assert.Equal(created, read);
    }

    [Fact]
    public async Task CreatePost_names_every_bad_field()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = "not-a-uuid",
            Content = new Content { Media = { new Media { Type = (MediaType)99, Url = "ftp://example.com/x" } } },
            PublishAt = InHours(-1),
            TimeZone = "Mars/Olympus_Mons",
            Rrule = "FREQ=SOMETIMES",
            RequestId = new string('x', 65),
        }, user.Headers).ResponseAsync,
            "channel_id", "content.media[0].type", "content.media[0].url", "publish_at", "time_zone", "rrule", "request_id");
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = " " },
            PublishAt = InHours(1),
            Rrule = "FREQ=MINUTELY",
        }, user.Headers).ResponseAsync, "content", "rrule");
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = new string('a', 4097) },
            PublishAt = InHours(1),
        }, user.Headers).ResponseAsync, "content.text");
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "x" },
        }, user.Headers).ResponseAsync, "publish_at");
    }

    [Fact]
    public async Task CreatePost_on_another_users_channel_is_NOT_FOUND()
    {
        var owner = fixture.NewUser();
        var other = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        await Expect.Status(StatusCode.NotFound, () => fixture.CreatePostAsync(other, channel));
    }

    private static CreatePostRequest Create(Channel channel, string text, Timestamp publishAt, string requestId, string rrule = "") => new()
    {
        ChannelId = channel.Id,
        Content = new Content { Text = text },
        PublishAt = publishAt,
        RequestId = requestId,
        Rrule = rrule,
    };

    [Fact]
    public async Task A_repeated_request_id_returns_the_first_post()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        // A retry repeats its request as it was sent.
        var request = Create(channel, "first", InHours(1), "req-1");
        var first = await fixture.Posts.CreatePostAsync(request, user.Headers);
        var second = await fixture.Posts.CreatePostAsync(request.Clone(), user.Headers);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal("first", second.Content.Text);
        // The same request id from another user is another request.
        var otherUser = fixture.NewUser();
        var otherChannel = await fixture.CreateWhatsAppChannelAsync(otherUser);
        var others = await fixture.CreatePostAsync(otherUser, otherChannel, requestId: "req-1");
        Assert.NotEqual(first.Id, others.Id);
    }

    [Fact]
    public async Task A_request_id_reused_with_a_different_request_is_ALREADY_EXISTS_naming_request_id()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var publishAt = InHours(1);
        var first = await fixture.Posts.CreatePostAsync(Create(channel, "first", publishAt, "req-reused"), user.Headers);

        // Another text, another time, another rule: each is another post, not a retry.
        var differing = new[]
        {
            Create(channel, "second", publishAt, "req-reused"),
            Create(channel, "first", InHours(2), "req-reused"),
            Create(channel, "first", publishAt, "req-reused", rrule: "FREQ=DAILY"),
        };
        foreach (var request in differing)
        {
            var refused = await Expect.Status(StatusCode.AlreadyExists, () => fixture.Posts.CreatePostAsync(request, user.Headers).ResponseAsync);
            Assert.Contains("request_id", refused.Status.Detail);
            var info = refused.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
            Assert.NotNull(info);
            Assert.Equal("request_id", info.Metadata["field"]);
            Assert.Equal(first.Id, info.Metadata["post_id"]);
        }
        var rows = (long)(await fixture.OwnerScalarAsync(
            "select count(*) from scheduled_posts where user_id = @u", ("u", user.Id)))!;
        Assert.Equal(1, rows);

        // The same post asked for in its stored spelling (an upper-case channel id, an "RRULE:" prefix) is a retry.
        var recurring = Create(channel, "daily", publishAt, "req-spelling", rrule: "FREQ=DAILY");
        var created = await fixture.Posts.CreatePostAsync(recurring, user.Headers);
        var respelled = recurring.Clone();
        respelled.Rrule = "RRULE:freq=daily";
        respelled.ChannelId = channel.Id.ToUpperInvariant();
        Assert.Equal(created.Id, (await fixture.Posts.CreatePostAsync(respelled, user.Headers)).Id);
    }

    [Fact]
    public async Task Concurrent_creates_with_the_same_request_id_make_exactly_one_post()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var requestId = Guid.NewGuid().ToString();
        var request = Create(channel, "Hello", InHours(1), requestId);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => fixture.Posts.CreatePostAsync(request.Clone(), user.Headers).ResponseAsync));
        Assert.Single(results.Select(p => p.Id).Distinct());
        var rows = (long)(await fixture.OwnerScalarAsync(
            "select count(*) from scheduled_posts where user_id = @u and request_id = @r", ("u", user.Id), ("r", requestId)))!;
        Assert.Equal(1, rows);
    }

    [Fact]
    public async Task ListPosts_filters_by_status_platform_and_channel_and_pages()
    {
        var user = fixture.NewUser();
        var whatsapp = await fixture.CreateWhatsAppChannelAsync(user);
        var instagram = await fixture.CreateInstagramChannelAsync(user);
        var posts = new List<ScheduledPost>();
        for (var i = 0; i < 3; i++)
        {
            posts.Add(await fixture.CreatePostAsync(user, whatsapp, $"w{i}", TimeSpan.FromHours(1 + i)));
        }
        var ig = await fixture.CreatePostAsync(user, instagram, "ig");
        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = posts[0].Id }, user.Headers);

        var queuedWhatsApp = await fixture.Posts.ListPostsAsync(new ListPostsRequest { Status = "queued", Platform = "whatsapp" }, user.Headers);
        Assert.Equal([posts[2].Id, posts[1].Id], queuedWhatsApp.Posts.Select(p => p.Id));
        var byEnum = await fixture.Posts.ListPostsAsync(new ListPostsRequest { StatusFilter = PostStatus.Cancelled }, user.Headers);
        Assert.Equal([posts[0].Id], byEnum.Posts.Select(p => p.Id));
        var byChannel = await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = instagram.Id }, user.Headers);
        Assert.Equal([ig.Id], byChannel.Posts.Select(p => p.Id));

        var page1 = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 3 }, user.Headers);
        Assert.Equal(3, page1.Posts.Count);
        Assert.Equal(4, page1.TotalSize);
        var page2 = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 3, PageToken = page1.NextPageToken }, user.Headers);
        Assert.Single(page2.Posts);
        Assert.Equal("", page2.NextPageToken);
        Assert.Empty(page1.Posts.Select(p => p.Id).Intersect(page2.Posts.Select(p => p.Id)));
        var offset = await fixture.Posts.ListPostsAsync(new ListPostsRequest { Limit = 2, Offset = 2 }, user.Headers);
        Assert.Equal(page1.Posts.Skip(2).Concat(page2.Posts).Select(p => p.Id), offset.Posts.Select(p => p.Id));

        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 101 }, user.Headers).ResponseAsync, "page_size");
        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(new ListPostsRequest { Limit = -1, Offset = -1 }, user.Headers).ResponseAsync, "limit", "offset");
        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(
            new ListPostsRequest { Status = "sent", Platform = "tiktok", ChannelId = "x", PageToken = "bogus" }, user.Headers).ResponseAsync,
            "status", "platform", "channel_id", "page_token");
    }

    [Fact]
    public async Task ListPosts_pages_through_25_posts_ten_at_a_time_each_once_in_order_even_when_a_post_is_created_between_pages()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var created = new List<ScheduledPost>();
        for (var i = 1; i <= 25; i++)
        {
            created.Add(await fixture.CreatePostAsync(user, channel, $"post {i}", TimeSpan.FromHours(i)));
        }

        var request = new ListPostsRequest { PageSize = 10 };
        var first = await fixture.Posts.ListPostsAsync(request, user.Headers);
        // Newer than every post listed: with an offset, it would push the first page's last post onto the second.
        var newest = await fixture.CreatePostAsync(user, channel, "created between pages", TimeSpan.FromHours(30));
        request.PageToken = first.NextPageToken;
        var second = await fixture.Posts.ListPostsAsync(request, user.Headers);
        request.PageToken = second.NextPageToken;
        var third = await fixture.Posts.ListPostsAsync(request, user.Headers);

        Assert.Equal([10, 10, 5], new[] { first.Posts.Count, second.Posts.Count, third.Posts.Count });
        Assert.Equal("", third.NextPageToken);
        var listed = first.Posts.Concat(second.Posts).Concat(third.Posts).Select(p => p.Id).ToList();
        Assert.Equal(created.AsEnumerable().Reverse().Select(p => p.Id), listed);
        Assert.DoesNotContain(newest.Id, listed);
        Assert.Equal([25, 25, 25], new[] { first.TotalSize, second.TotalSize, third.TotalSize });
    }

    [Fact]
    public async Task ListPosts_pages_a_member_of_two_workspaces_through_both_in_one_publish_time_order()
    {
        var user = fixture.NewUser();
        var personal = await fixture.CreateWhatsAppChannelAsync(user);
        var team = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Keyset" }, user.Headers);
        var teamChannel = await fixture.CreateWhatsAppChannelAsync(user, workspace: team);
        var created = new List<ScheduledPost>();
        for (var i = 1; i <= 7; i++)
        {
            created.Add(await fixture.CreatePostAsync(user, i % 2 == 0 ? personal : teamChannel, $"post {i}", TimeSpan.FromHours(i)));
        }

        var listed = new List<string>();
        var request = new ListPostsRequest { PageSize = 3 };
        do
        {
            var page = await fixture.Posts.ListPostsAsync(request, user.Headers);
            listed.AddRange(page.Posts.Select(p => p.Id));
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        Assert.Equal(created.AsEnumerable().Reverse().Select(p => p.Id), listed);
    }

    [Fact]
    public async Task ListPosts_answers_a_page_token_it_did_not_issue_or_issued_for_other_filters_with_INVALID_ARGUMENT()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        for (var i = 1; i <= 3; i++)
        {
            await fixture.CreatePostAsync(user, channel, $"post {i}", TimeSpan.FromHours(i));
        }
        var first = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 2, Status = "queued" }, user.Headers);
        Assert.NotEqual("", first.NextPageToken);

        // Not base64, an offset token of the list's earlier form, cut short, and too long.
        foreach (var token in new[] { "bogus!", "bzE6Mg==", first.NextPageToken[..^4], first.NextPageToken + "AAAA" })
        {
            await Expect.BadFields(() => fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 2, Status = "queued", PageToken = token }, user.Headers).ResponseAsync,
                "page_token");
        }
        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 2, Status = "cancelled", PageToken = first.NextPageToken }, user.Headers).ResponseAsync,
            "page_token");
        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 2, PageToken = first.NextPageToken }, user.Headers).ResponseAsync,
            "page_token");
        // The page size may change between pages (AIP-158).
        var rest = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 5, Status = "queued", PageToken = first.NextPageToken }, user.Headers);
        Assert.Single(rest.Posts);
    }

    [Fact]
    public async Task ListPosts_keeps_the_posts_due_in_a_publish_time_range_with_its_end_excluded()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var posts = new List<ScheduledPost>();
        for (var i = 1; i <= 4; i++)
        {
            posts.Add(await fixture.CreatePostAsync(user, channel, $"day {i}", TimeSpan.FromDays(i)));
        }
        Timestamp At(int i) => posts[i].PublishAt;

        var middle = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PublishTimeStart = At(1), PublishTimeEnd = At(3) }, user.Headers);
        var fromThird = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PublishTimeStart = At(2) }, user.Headers);
        var beforeSecond = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PublishTimeEnd = At(1) }, user.Headers);

        Assert.Equal([posts[2].Id, posts[1].Id], middle.Posts.Select(p => p.Id));
        Assert.Equal(2, middle.TotalSize);
        Assert.Equal([posts[3].Id, posts[2].Id], fromThird.Posts.Select(p => p.Id));
        Assert.Equal([posts[0].Id], beforeSecond.Posts.Select(p => p.Id));
        await Expect.BadFields(() => fixture.Posts.ListPostsAsync(
            new ListPostsRequest { PublishTimeStart = At(2), PublishTimeEnd = At(2) }, user.Headers).ResponseAsync, "publish_time_end");
    }

    [Fact]
    public async Task UpdatePost_changes_content_and_moving_publish_at_moves_due_at_through_the_outbox()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        var outboxBefore = (long)(await fixture.OwnerScalarAsync("select count(*) from schedule_outbox where post_id = @id", ("id", Guid.Parse(post.Id))))!;

        var edited = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "Edited" }, Etag = post.Etag }, user.Headers);
        Assert.Equal("Edited", edited.Content.Text);
        Assert.Equal(post.PublishAt, edited.PublishAt);
        Assert.NotEqual(post.Etag, edited.Etag);
        var outboxAfterContent = (long)(await fixture.OwnerScalarAsync("select count(*) from schedule_outbox where post_id = @id", ("id", Guid.Parse(post.Id))))!;
        Assert.Equal(outboxBefore, outboxAfterContent);

        var later = InHours(5);
        var moved = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = post.Id,
            PublishAt = later,
            Content = new Content { Text = "ignored: not in the mask" },
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "publish_at" } },
        }, user.Headers);
        Assert.Equal("Edited", moved.Content.Text);
        var dueAt = (DateTime)(await fixture.OwnerScalarAsync("select due_at from scheduled_posts where id = @id", ("id", Guid.Parse(post.Id))))!;
        Assert.Equal(later.ToDateTime(), dueAt.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
        var outboxAfterMove = (long)(await fixture.OwnerScalarAsync("select count(*) from schedule_outbox where post_id = @id", ("id", Guid.Parse(post.Id))))!;
        Assert.Equal(outboxBefore + 1, outboxAfterMove);

        await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id }, user.Headers).ResponseAsync, "update_mask");
        await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = post.Id,
            PublishAt = InHours(-2),
            TimeZone = "Nowhere/Land",
            Etag = "x1",
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "publish_at", "time_zone", "status" } },
        }, user.Headers).ResponseAsync, "publish_at", "time_zone", "etag", "update_mask");
    }

    [Fact]
    public async Task UpdatePost_with_a_stale_etag_is_ABORTED()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "v2" } }, user.Headers);
        await Expect.Status(StatusCode.Aborted, () => fixture.Posts.UpdatePostAsync(
            new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "v3" }, Etag = post.Etag }, user.Headers).ResponseAsync);
        var current = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, user.Headers);
        Assert.Equal("v2", current.Content.Text);
    }

    [Fact]
    public async Task Concurrent_updates_with_the_same_etag_exactly_one_wins()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        for (var round = 0; round < 5; round++)
        {
            var post = await fixture.CreatePostAsync(user, channel);
            var attempts = Enumerable.Range(0, 4).Select(async i =>
            {
                try
                {
                    var updated = await fixture.Posts.UpdatePostAsync(
                        new UpdatePostRequest { Id = post.Id, Content = new Content { Text = $"writer {i}" }, Etag = post.Etag }, user.Headers);
                    return (Winner: updated.Content.Text, Code: StatusCode.OK);
                }
                catch (RpcException ex)
                {
                    return (Winner: (string?)null, Code: ex.StatusCode);
                }
            });
            var outcomes = await Task.WhenAll(attempts);
            var winners = outcomes.Where(o => o.Code == StatusCode.OK).ToList();
            Assert.Single(winners);
            Assert.All(outcomes.Where(o => o.Code != StatusCode.OK), o => Assert.Equal(StatusCode.Aborted, o.Code));
            var final = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, user.Headers);
            Assert.Equal(winners[0].Winner, final.Content.Text);
            Assert.Equal((int.Parse(post.Etag) + 1).ToString(), final.Etag);
        }
    }

    [Theory]
    [InlineData("publishing")]
    [InlineData("published")]
    [InlineData("cancelled")]
    public async Task UpdatePost_is_FAILED_PRECONDITION_for_a_post_that_cannot_change(string status)
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        await fixture.OwnerScalarAsync("update scheduled_posts set status = @s where id = @id", ("s", status), ("id", Guid.Parse(post.Id)));
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.UpdatePostAsync(
            new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "too late" } }, user.Headers).ResponseAsync);
        var text = (string)(await fixture.OwnerScalarAsync("select content_json->>'text' from scheduled_posts where id = @id", ("id", Guid.Parse(post.Id))))!;
        Assert.Equal("Hello", text);
    }

    [Theory]
    [InlineData("failed")]
    [InlineData("missed")]
    [InlineData("unconfirmed")]
    public async Task Editing_a_post_that_did_not_go_out_queues_it_again_at_a_future_time(string status)
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        await fixture.OwnerScalarAsync("""
            update scheduled_posts set status = @s, retry_count = 3, error_message = 'boom', publish_at = now() - interval '2 hours',
                due_at = now() - interval '2 hours' where id = @id
            """, ("s", status), ("id", Guid.Parse(post.Id)));

        // Its publish_at is past: editing only the text cannot queue it again.
        await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(
            new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "again" } }, user.Headers).ResponseAsync, "publish_at");

        var at = InHours(3);
        var requeued = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, PublishAt = at }, user.Headers);
        Assert.Equal(PostStatus.Queued, requeued.Status);
        Assert.Equal(0, requeued.RetryCount);
        Assert.Equal("", requeued.ErrorMessage);
        var dueAt = (DateTime)(await fixture.OwnerScalarAsync("select due_at from scheduled_posts where id = @id", ("id", Guid.Parse(post.Id))))!;
        Assert.Equal(at.ToDateTime(), dueAt.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task CancelPost_cancels_and_refuses_published_posts()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        await Expect.Status(StatusCode.Aborted, () => fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id, Etag = "999" }, user.Headers).ResponseAsync);
        var cancelled = await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id, Etag = post.Etag }, user.Headers);
        Assert.Equal(PostStatus.Cancelled, cancelled.Status);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id }, user.Headers).ResponseAsync);

        var published = await fixture.CreatePostAsync(user, channel);
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'published', published_at = now() where id = @id", ("id", Guid.Parse(published.Id)));
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = published.Id }, user.Headers).ResponseAsync);
    }

    [Fact]
    public async Task DeletePost_removes_the_post_and_its_runs_but_is_refused_while_publishing()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        var id = Guid.Parse(post.Id);
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'publishing' where id = @id", ("id", id));
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Posts.DeletePostAsync(new DeletePostRequest { Id = post.Id }, user.Headers).ResponseAsync);

        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'failed' where id = @id", ("id", id));
        await fixture.OwnerScalarAsync("insert into post_runs (scheduled_post_id, user_id, workspace_id, attempt, started_at, status) values (@id, @u, @u, 1, now(), 'failed')",
            ("id", id), ("u", user.Id));
        await Expect.Status(StatusCode.Aborted, () => fixture.Posts.DeletePostAsync(new DeletePostRequest { Id = post.Id, Etag = post.Etag }, user.Headers).ResponseAsync);
        await fixture.Posts.DeletePostAsync(new DeletePostRequest { Id = post.Id }, user.Headers);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, user.Headers).ResponseAsync);
        Assert.Equal(0L, await fixture.OwnerScalarAsync("select count(*) from post_runs where scheduled_post_id = @id", ("id", id)));
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.DeletePostAsync(new DeletePostRequest { Id = post.Id }, user.Headers).ResponseAsync);
    }

    [Fact]
    public async Task ListPostRuns_returns_the_newest_runs_first_up_to_the_limit()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        var id = Guid.Parse(post.Id);
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            await fixture.OwnerScalarAsync("""
                insert into post_runs (scheduled_post_id, user_id, workspace_id, attempt, started_at, finished_at, status, error, error_code, error_class)
                values (@id, @u, @u, @a, now() - make_interval(mins => 10 - @a), now(), 'failed', 'timeout', 2, 'transient')
                """, ("id", id), ("u", user.Id), ("a", attempt));
        }
        var runs = await fixture.Posts.ListPostRunsAsync(new ListPostRunsRequest { Id = post.Id, Limit = 2 }, user.Headers);
        Assert.Equal([3, 2], runs.Runs.Select(r => r.Attempt));
        Assert.All(runs.Runs, r => Assert.Equal("transient", r.ErrorClass));
        await Expect.BadFields(() => fixture.Posts.ListPostRunsAsync(new ListPostRunsRequest { Id = post.Id, Limit = 101 }, user.Headers).ResponseAsync, "limit");
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.ListPostRunsAsync(
            new ListPostRunsRequest { Id = post.Id }, fixture.NewUser().Headers).ResponseAsync);
    }

    [Fact]
    public async Task ListPosts_gives_each_post_the_error_class_of_its_latest_run()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var retried = await fixture.CreatePostAsync(user, channel);
        var fresh = await fixture.CreatePostAsync(user, channel);
        // Transient first, then refused for good: the latest run's class is the one that says why.
        foreach (var (attempt, errorClass) in new[] { (1, "transient"), (2, "permanent") })
        {
            await fixture.OwnerScalarAsync("""
                insert into post_runs (scheduled_post_id, user_id, workspace_id, attempt, started_at, finished_at, status, error, error_code, error_class)
                values (@id, @u, @u, @a, now() - make_interval(mins => 10 - @a), now(), 'failed', 'refused', 131026, @c)
                """, ("id", Guid.Parse(retried.Id)), ("u", user.Id), ("a", attempt), ("c", errorClass));
        }

        var posts = (await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts.ToDictionary(p => p.Id);

        Assert.Equal("permanent", posts[retried.Id].LastErrorClass);
        Assert.Equal("", posts[fresh.Id].LastErrorClass);
    }

    [Fact]
    public async Task GetPostStatistics_counts_by_status_and_computes_the_24h_figures_per_user()
    {
        var user = fixture.NewUser();
        var whatsapp = await fixture.CreateWhatsAppChannelAsync(user);
        var instagram = await fixture.CreateInstagramChannelAsync(user);
        async Task<Guid> PostWith(Channel channel, string status, int retries, double delaySeconds = 0, double hoursAgo = 1)
        {
            var post = await fixture.CreatePostAsync(user, channel);
            var id = Guid.Parse(post.Id);
            await fixture.OwnerScalarAsync("""
                update scheduled_posts set status = @s, retry_count = @r,
                    publish_at = now() - make_interval(secs => @ago * 3600),
                    published_at = case when @s = 'published' then now() - make_interval(secs => @ago * 3600 - @delay) end
                where id = @id
                """, ("s", status), ("r", retries), ("ago", hoursAgo), ("delay", delaySeconds), ("id", id));
            return id;
        }
        await PostWith(whatsapp, "published", 0, delaySeconds: 10);
        await PostWith(whatsapp, "published", 1, delaySeconds: 30);
        await PostWith(instagram, "failed", 3);
        await PostWith(whatsapp, "published", 0, delaySeconds: 500, hoursAgo: 30); // outside the 24 h window
        await fixture.CreatePostAsync(user, whatsapp);
        var cancelled = await fixture.CreatePostAsync(user, instagram);
        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = cancelled.Id }, user.Headers);
        // Another user's posts never count.
        var other = fixture.NewUser();
        await fixture.CreatePostAsync(other, await fixture.CreateWhatsAppChannelAsync(other));

        var stats = await fixture.Posts.GetPostStatisticsAsync(new GetPostStatisticsRequest(), user.Headers);
        Assert.Equal(6, stats.Total);
        Assert.Equal(1, stats.Queued);
        Assert.Equal(3, stats.Published);
        Assert.Equal(1, stats.Failed);
        Assert.Equal(1, stats.Cancelled);
        Assert.Equal(3, stats.Finished24H);
        Assert.Equal(2.0 / 3, stats.SuccessRate24H, 6);
        Assert.Equal(2.0 / 3, stats.RetryRate24H, 6);
        Assert.Equal(20, stats.MeanPublishDelaySeconds24H, 3);
        var byPlatform = stats.Platforms.ToDictionary(p => p.Platform);
        Assert.Equal(4, byPlatform["whatsapp"].Total);
        Assert.Equal(3, byPlatform["whatsapp"].Published);
        Assert.Equal(1, byPlatform["whatsapp"].SuccessRate24H, 6);
        Assert.Equal(2, byPlatform["instagram"].Total);
        Assert.Equal(1, byPlatform["instagram"].Failed);
        Assert.Equal(0, byPlatform["instagram"].SuccessRate24H, 6);

        var empty = await fixture.Posts.GetPostStatisticsAsync(new GetPostStatisticsRequest(), fixture.NewUser().Headers);
        Assert.Equal(0, empty.Total);
        Assert.Equal(0, empty.SuccessRate24H);
    }
}
