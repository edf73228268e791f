using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>CreatePost's group commit: concurrent creates share transactions, yet each call gets its own answer.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class CreateBatchingTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task Concurrent_creates_of_several_users_share_transactions_and_each_gets_its_own_answer()
    {
        var users = Enumerable.Range(0, 4).Select(_ => fixture.NewUser()).ToList();
        var whatsApp = new List<Channel>();
        foreach (var user in users)
        {
            whatsApp.Add(await fixture.CreateWhatsAppChannelAsync(user));
        }
        var instagram = await fixture.CreateInstagramChannelAsync(users[0]);
        var calls = Enumerable.Range(0, 240).Select(async i =>
        {
            var user = users[i % users.Count];
            // Two calls in ten are bad: someone else's channel, or text alone on Instagram (which needs media).
            var (channel, text) = (i % 10) switch
            {
                3 => (whatsApp[(i + 1) % users.Count], $"foreign {i}"),
                7 => (instagram, $"no media {i}"),
                _ => (whatsApp[i % users.Count], $"post {i}"),
            };
            user = i % 10 == 7 ? users[0] : user;
            try
            {
                var post = await fixture.Posts.CreatePostAsync(new CreatePostRequest
                {
                    ChannelId = channel.Id,
                    Content = new Content { Text = text },
                    PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
                }, user.Headers);
                return (Index: i, Post: (ScheduledPost?)post, Status: StatusCode.OK);
            }
            catch (RpcException e)
            {
                return (Index: i, Post: (ScheduledPost?)null, Status: e.StatusCode);
            }
        });
        var results = await Task.WhenAll(calls);

        foreach (var (i, post, status) in results)
        {
            var expected = (i % 10) switch
            {
                3 => StatusCode.NotFound,
                7 => StatusCode.InvalidArgument,
                _ => StatusCode.OK,
            };
            Assert.True(expected == status, $"call {i}: expected {expected}, got {status}");
            if (post is not null)
            {
                Assert.Equal($"post {i}", post.Content.Text);
                Assert.Equal(PostStatus.Queued, post.Status);
                Assert.Equal(whatsApp[i % users.Count].Id, post.ChannelId);
            }
        }

        var created = results.Count(r => r.Post is not null);
        var userIds = users.Select(u => u.Id).ToArray();
        var rows = (long)(await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where user_id = any(@users)", ("users", userIds)))!;
        var transactions = (long)(await fixture.OwnerScalarAsync(
            "select count(distinct xmin::text) from scheduled_posts where user_id = any(@users)", ("users", userIds)))!;
        Assert.Equal(created, rows);
        Assert.True(transactions < rows, $"{rows} posts were written in {transactions} transactions: concurrent creates were not grouped");
        // Each post is its owner's, visible to that owner alone.
        foreach (var (i, post, _) in results.Where(r => r.Post is not null))
        {
            var owner = users[i % users.Count];
            var other = users[(i + 1) % users.Count];
            Assert.Equal(post!.Id, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, owner.Headers)).Id);
            if (i % 24 == 0)
            {
                await Expect.Status(StatusCode.NotFound, () => fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, other.Headers).ResponseAsync);
            }
        }
    }

    [Fact]
    public async Task Concurrent_creates_that_share_a_request_id_across_two_requests_make_one_post_and_refuse_the_other_request()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var requestId = Guid.NewGuid().ToString();
        var publishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1));
        CreatePostRequest Request(string text) => new()
        {
            ChannelId = channel.Id,
            Content = new Content { Text = text },
            PublishAt = publishAt,
            RequestId = requestId,
        };
        // Sixteen calls at once, half of them one request and half another, all under one request_id, among
        // unrelated creates so that they share group commits.
        var calls = Enumerable.Range(0, 48).Select(async i =>
        {
            var request = i % 3 == 2
                ? new CreatePostRequest { ChannelId = channel.Id, Content = new Content { Text = $"other {i}" }, PublishAt = publishAt }
                : Request(i % 3 == 0 ? "A" : "B");
            try
            {
                return (Request: request, Post: (ScheduledPost?)await fixture.Posts.CreatePostAsync(request, user.Headers), Status: StatusCode.OK);
            }
            catch (RpcException e)
            {
                return (Request: request, Post: (ScheduledPost?)null, Status: e.StatusCode);
            }
        });
        var results = await Task.WhenAll(calls);

        var shared = results.Where(r => r.Request.RequestId == requestId).ToList();
        var made = Assert.Single(shared.Where(r => r.Post is not null).Select(r => r.Post!.Id).Distinct());
        var winner = shared.First(r => r.Post is not null).Request.Content.Text;
        foreach (var (request, post, status) in shared)
        {
            if (request.Content.Text == winner)
            {
                Assert.Equal((StatusCode.OK, made), (status, post?.Id));
            }
            else
            {
                Assert.Equal(StatusCode.AlreadyExists, status);
            }
        }
        Assert.All(results.Where(r => r.Request.RequestId != requestId), r => Assert.Equal(StatusCode.OK, r.Status));
        var rows = (long)(await fixture.OwnerScalarAsync(
            "select count(*) from scheduled_posts where user_id = @u and request_id = @r", ("u", user.Id), ("r", requestId)))!;
        Assert.Equal(1, rows);
    }
}
