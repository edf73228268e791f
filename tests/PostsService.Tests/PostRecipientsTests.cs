using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>A WhatsApp post's own recipients, instead of its channel's.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class PostRecipientsTests(PostsServiceFixture fixture)
{
    private static Timestamp InHours(double hours) => Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(hours));

    [Fact]
    public async Task A_post_keeps_its_own_recipients_through_create_update_and_get_and_an_update_can_return_it_to_the_channels()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var created = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Hello" },
            PublishAt = InHours(2),
            Recipients = { "+447700900123", "4915112345678" },
        }, user.Headers);

        Assert.Equal(["+447700900123", "4915112345678"], created.Recipients);
        Assert.Equal(created.Recipients, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = created.Id }, user.Headers)).Recipients);

        var changed = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = created.Id, Recipients = { "+16505550199" } }, user.Headers);
        Assert.Equal(["+16505550199"], changed.Recipients);
        var untouched = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = created.Id, Content = new Content { Text = "Hi" } }, user.Headers);
        Assert.Equal(["+16505550199"], untouched.Recipients);

        var cleared = await fixture.Posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = created.Id,
            UpdateMask = new FieldMask { Paths = { "recipients" } },
        }, user.Headers);
        Assert.Empty(cleared.Recipients);
        Assert.Empty((await fixture.Posts.GetPostAsync(new GetPostRequest { Id = created.Id }, user.Headers)).Recipients);
    }

    [Fact]
    public async Task Bad_recipients_are_INVALID_ARGUMENT_naming_each_and_an_instagram_post_takes_none()
    {
        var user = fixture.NewUser();
        var whatsApp = await fixture.CreateWhatsAppChannelAsync(user);
        var instagram = await fixture.CreateInstagramChannelAsync(user);

        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = whatsApp.Id,
            Content = new Content { Text = "x" },
            PublishAt = InHours(1),
            Recipients = { "+16505551234", "not a number", "+0123" },
        }, user.Headers).ResponseAsync, "recipients[1]", "recipients[2]");
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = whatsApp.Id,
            Content = new Content { Text = "x" },
            PublishAt = InHours(1),
            Recipients = { Enumerable.Range(0, 51).Select(i => $"+1650555{i:0000}") },
        }, user.Headers).ResponseAsync, "recipients");
        await Expect.BadFields(() => fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = instagram.Id,
            Content = new Content { Text = "x", Media = { new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" } } },
            PublishAt = InHours(1),
            Recipients = { "+16505551234" },
        }, user.Headers).ResponseAsync, "recipients");
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(new BatchCreatePostsRequest
        {
            Requests = { new CreatePostRequest { ChannelId = whatsApp.Id, Content = new Content { Text = "x" }, PublishAt = InHours(1), Recipients = { "12" } } },
        }, user.Headers).ResponseAsync, "requests[0].recipients[0]");

        var post = await fixture.CreatePostAsync(user, whatsApp);
        await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Recipients = { "call me" } }, user.Headers).ResponseAsync,
            "recipients[0]");
        var instagramPost = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = instagram.Id,
            Content = new Content { Text = "x", Media = { new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" } } },
            PublishAt = InHours(1),
        }, user.Headers);
        await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = instagramPost.Id, Recipients = { "+16505551234" } }, user.Headers).ResponseAsync,
            "recipients");
    }

    [Fact]
    public async Task The_rest_routes_take_and_return_a_posts_recipients()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var publishAt = DateTimeOffset.UtcNow.AddHours(3).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        using var create = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, "/api/posts", user,
            $$"""{"channel_id": "{{channel.Id}}", "content": {"text": "Hello"}, "publish_at": "{{publishAt}}", "recipients": ["+447700900123"]}"""));
        var created = JsonDocument.Parse(await create.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        Assert.Equal("+447700900123", created.GetProperty("recipients")[0].GetString());

        using var patch = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Patch, $"/api/posts/{created.GetProperty("id").GetString()}", user,
            """{"recipients": ["bad"]}"""));
        var problem = JsonDocument.Parse(await patch.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, patch.StatusCode);
        Assert.Equal("recipients[0]", problem.GetProperty("details")[0].GetProperty("fieldViolations")[0].GetProperty("field").GetString());
    }
}
