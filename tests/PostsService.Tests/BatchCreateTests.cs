using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

[Collection(PostsServiceCollection.Name)]
public sealed class BatchCreateTests(PostsServiceFixture fixture)
{
    private static CreatePostRequest Post(string channelId, string text, double hours = 2) => new()
    {
        ChannelId = channelId,
        Content = new Content { Text = text },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(hours)),
    };

    private async Task<long> PostsOfAsync(TestUser user) =>
        (long)(await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where user_id = @user", ("user", user.Id)))!;

    [Fact]
    public async Task BatchCreatePosts_creates_every_post_queued_in_request_order()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var request = new BatchCreatePostsRequest { Requests = { Post(channel.Id, "first", 1), Post(channel.Id, "second", 2), Post(channel.Id, "third", 3) } };

        var response = await fixture.Posts.BatchCreatePostsAsync(request, user.Headers);

        Assert.Equal(["first", "second", "third"], response.Posts.Select(p => p.Content.Text));
        Assert.All(response.Posts, p => Assert.Equal(PostStatus.Queued, p.Status));
        Assert.Equal(3, await PostsOfAsync(user));
    }

    [Fact]
    public async Task BatchCreatePosts_with_one_bad_post_writes_none_and_names_the_field_by_index()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var badMedia = Post(channel.Id, "bad media");
        badMedia.Content.Media.Add(new Media { Type = MediaType.Image, Url = "ftp://example.com/a.jpg" });
        var request = new BatchCreatePostsRequest { Requests = { Post(channel.Id, "fine"), badMedia, Post("not-a-uuid", "bad channel") } };
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(request, user.Headers).ResponseAsync,
            "requests[1].content.media[0].url", "requests[2].channel_id");

        // The platform's own limits are checked once the channels are known: WhatsApp text is at most 4096 characters.
        var tooLong = new BatchCreatePostsRequest { Requests = { Post(channel.Id, "fine"), Post(channel.Id, new string('a', 4097)) } };
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(tooLong, user.Headers).ResponseAsync, "requests[1].content.text");
        Assert.Equal(0, await PostsOfAsync(user));
    }

    [Fact]
    public async Task BatchCreatePosts_onto_another_users_channel_is_not_found_and_writes_nothing()
    {
        var owner = fixture.NewUser();
        var intruder = fixture.NewUser();
        var ownersChannel = await fixture.CreateWhatsAppChannelAsync(owner);
        var ownChannel = await fixture.CreateWhatsAppChannelAsync(intruder);
        var request = new BatchCreatePostsRequest { Requests = { Post(ownChannel.Id, "mine"), Post(ownersChannel.Id, "theirs") } };

        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.BatchCreatePostsAsync(request, intruder.Headers).ResponseAsync);
        Assert.Equal(0, await PostsOfAsync(intruder));
        Assert.Equal(0, await PostsOfAsync(owner));
    }

    [Fact]
    public async Task BatchCreatePosts_refuses_an_empty_batch_and_a_repeated_request_id()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(new BatchCreatePostsRequest(), user.Headers).ResponseAsync, "requests");

        var twice = Post(channel.Id, "twice");
        twice.RequestId = "same-id";
        var again = Post(channel.Id, "again");
        again.RequestId = "same-id";
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(new BatchCreatePostsRequest { Requests = { twice, again } }, user.Headers).ResponseAsync,
            "requests");
        Assert.Equal(0, await PostsOfAsync(user));
    }

    [Fact]
    public async Task BatchCreatePosts_sent_again_returns_the_same_posts_and_a_request_id_reused_for_another_post_refuses_the_batch()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var one = Post(channel.Id, "one", 1);
        one.RequestId = "batch-one";
        var two = Post(channel.Id, "two", 2);
        two.RequestId = "batch-two";
        var request = new BatchCreatePostsRequest { Requests = { one, two } };

        var created = await fixture.Posts.BatchCreatePostsAsync(request, user.Headers);
        var again = await fixture.Posts.BatchCreatePostsAsync(request.Clone(), user.Headers);
        Assert.Equal(created.Posts.Select(p => p.Id), again.Posts.Select(p => p.Id));

        var edited = two.Clone();
        edited.Content.Text = "two, edited";
        var reusing = new BatchCreatePostsRequest { Requests = { Post(channel.Id, "three"), edited } };
        var refused = await Expect.Status(StatusCode.AlreadyExists, () => fixture.Posts.BatchCreatePostsAsync(reusing, user.Headers).ResponseAsync);
        var info = refused.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal("requests[1].request_id", info.Metadata["field"]);
        Assert.Equal(created.Posts[1].Id, info.Metadata["post_id"]);
        // All or none: "three" was not kept either.
        Assert.Equal(2, await PostsOfAsync(user));
    }
}
