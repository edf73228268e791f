using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>A PostsService with media checks on, allowed to fetch from the loopback media server only.</summary>
public sealed class MediaChecksFixture : PostsServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Media__Checks"] = "true",
        ["Media__AllowedHosts__0"] = "127.0.0.1/32",
    };
}

/// <summary>
/// Media is fetched and checked against the channel's platform at CreatePost, BatchCreatePosts and UpdatePost: a bad
/// file fails the request naming its field and the rule, before anything is saved.
/// </summary>
public sealed class MediaChecksTests(MediaChecksFixture fixture) : IClassFixture<MediaChecksFixture>, IAsyncLifetime
{
    private MediaServer _media = null!;

    public async Task InitializeAsync() => _media = await MediaServer.StartAsync();

    public async Task DisposeAsync() => await _media.DisposeAsync();

    private static CreatePostRequest Create(Channel channel, params string[] imageUrls) => new()
    {
        ChannelId = channel.Id,
        Content = new Content { Text = "Spring sale", Media = { imageUrls.Select(u => new Media { Type = MediaType.Image, Url = u }) } },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + TimeSpan.FromHours(1)),
    };

    [Fact]
    public async Task A_post_whose_second_image_breaks_an_instagram_rule_is_refused_naming_that_image_and_the_rule()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var good = _media.Put("square.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var wide = _media.Put("wide.jpg", MediaFixtures.Jpeg(2000, 1000), "image/jpeg");

        var bad = await Expect.BadFields(() => fixture.Posts.CreatePostAsync(Create(channel, good, wide), user.Headers).ResponseAsync,
            "content.media[1].url");
        var violation = Assert.Single(bad.FieldViolations);
        Assert.Equal("Instagram feed image must have an aspect ratio between 4:5 and 1.91:1 (the image is 2000x1000)", violation.Description);
        var list = await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers);
        Assert.Empty(list.Posts);

        var created = await fixture.Posts.CreatePostAsync(Create(channel, good, good), user.Headers);
        Assert.Equal(PostStatus.Queued, created.Status);
    }

    [Fact]
    public async Task A_batch_names_each_bad_media_item_by_its_request()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var png = _media.Put("wa.png", MediaFixtures.Png(800, 600), "image/png");
        var webp = _media.Put("wa.webp", MediaFixtures.WebP(800, 600), "image/webp");
        var request = new BatchCreatePostsRequest { Requests = { Create(channel, png), Create(channel, png, webp) } };

        var bad = await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(request, user.Headers).ResponseAsync,
            "requests[1].content.media[1].url");
        Assert.Equal("WhatsApp image must be JPEG or PNG (the file is WebP)", Assert.Single(bad.FieldViolations).Description);
    }

    [Fact]
    public async Task An_internal_address_is_refused_at_create()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var bad = await Expect.BadFields(
            () => fixture.Posts.CreatePostAsync(Create(channel, "http://169.254.169.254/latest/meta-data/"), user.Headers).ResponseAsync,
            "content.media[0].url");
        Assert.Equal("is refused: its host is an internal address", Assert.Single(bad.FieldViolations).Description);
    }

    [Fact]
    public async Task An_update_that_changes_the_media_is_checked_and_one_that_keeps_them_is_not()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var good = _media.Put("keep.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var post = await fixture.Posts.CreatePostAsync(Create(channel, good), user.Headers);
        var png = _media.Put("edit.png", MediaFixtures.Png(1080, 1080), "image/png");

        var edit = new UpdatePostRequest
        {
            Id = post.Id,
            Content = new Content { Text = "Edited", Media = { new Media { Type = MediaType.Image, Url = png } } },
            UpdateMask = new FieldMask { Paths = { "content" } },
        };
        var bad = await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(edit, user.Headers).ResponseAsync, "content.media[0].url");
        Assert.Equal("Instagram feed image must be JPEG (the file is PNG)", Assert.Single(bad.FieldViolations).Description);

        // The kept image changes behind its URL; an edit of the text only does not fetch it again.
        _media.Put("keep.jpg", MediaFixtures.Png(1080, 1080), "image/png");
        edit.Content = new Content { Text = "Edited", Media = { post.Content.Media } };
        var edited = await fixture.Posts.UpdatePostAsync(edit, user.Headers);
        Assert.Equal("Edited", edited.Content.Text);
    }

    [Fact]
    public async Task A_validate_only_create_runs_the_media_checks_and_answers_the_post_it_would_make_without_writing_it()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var good = _media.Put("check-square.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var wide = _media.Put("check-wide.jpg", MediaFixtures.Jpeg(2000, 1000), "image/jpeg");

        var check = Create(channel, good, wide);
        check.ValidateOnly = true;
        var bad = await Expect.BadFields(() => fixture.Posts.CreatePostAsync(check, user.Headers).ResponseAsync, "content.media[1].url");
        Assert.Equal("Instagram feed image must have an aspect ratio between 4:5 and 1.91:1 (the image is 2000x1000)",
            Assert.Single(bad.FieldViolations).Description);

        check = Create(channel, good);
        check.ValidateOnly = true;
        check.RequestId = Guid.NewGuid().ToString();
        var preview = await fixture.Posts.CreatePostAsync(check, user.Headers);
        Assert.Equal(PostStatus.Queued, preview.Status);
        Assert.Equal(Platform.Instagram, preview.Platform);
        Assert.Equal(channel.Id, preview.ChannelId);
        Assert.Equal("", preview.Id);
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts);

        // The same request_id, now for real, creates the post: the check did not take it.
        check.ValidateOnly = false;
        var created = await fixture.Posts.CreatePostAsync(check, user.Headers);
        Assert.NotEqual("", created.Id);
        Assert.Single((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts);
    }

    [Fact]
    public async Task A_validate_only_create_of_a_channel_the_caller_cannot_see_is_not_found_and_in_a_batch_is_refused()
    {
        var owner = fixture.NewUser();
        var stranger = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        var check = Create(channel);
        check.ValidateOnly = true;
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.CreatePostAsync(check, stranger.Headers).ResponseAsync);

        // A batch is written as a whole, so a check-only create inside one is refused rather than written.
        await Expect.BadFields(() => fixture.Posts.BatchCreatePostsAsync(new BatchCreatePostsRequest { Requests = { Create(channel), check } }, owner.Headers).ResponseAsync,
            "requests[1].validate_only");
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), owner.Headers)).Posts);
    }
}
