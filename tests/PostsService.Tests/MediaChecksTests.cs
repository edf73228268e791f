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

/// <summary>The Graph API emulator as a process, serving the media files the tests put (as a CDN serves a post's media).</summary>
public sealed class MediaEmulatorFixture : IAsyncLifetime
{
    private EmulatorProcess _emulator = null!;

    public EmulatorMedia Media => _emulator.Media;

    public async Task InitializeAsync() => _emulator = await EmulatorProcess.StartAsync();

    public async Task DisposeAsync() => await _emulator.DisposeAsync();
}

/// <summary>
/// Media is fetched and checked against the channel's platform on every path that saves a post (CreatePost,
/// BatchCreatePosts, UpdatePost, AddToQueue, CreatePostFromTemplate, ImportPosts): a bad file fails the request naming
/// its field and the rule, before anything is saved. The files are real bytes served by the emulator.
/// </summary>
public sealed class MediaChecksTests(MediaChecksFixture fixture, MediaEmulatorFixture emulator)
    : IClassFixture<MediaChecksFixture>, IClassFixture<MediaEmulatorFixture>
{
    private readonly MediaFiles _media = new(emulator.Media);

    /// <summary>Each test's files under names of their own (the emulator is shared by the class).</summary>
    private sealed class MediaFiles(EmulatorMedia media)
    {
        private readonly string _prefix = Guid.NewGuid().ToString("N")[..8] + "-";

        public Task<string> PutAsync(string name, byte[] bytes, string contentType) => media.PutAsync(_prefix + name, bytes, contentType);
    }

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
        var good = await _media.PutAsync("square.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var wide = await _media.PutAsync("wide.jpg", MediaFixtures.Jpeg(2000, 1000), "image/jpeg");

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
        var png = await _media.PutAsync("wa.png", MediaFixtures.Png(800, 600), "image/png");
        var webp = await _media.PutAsync("wa.webp", MediaFixtures.WebP(800, 600), "image/webp");
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
        var good = await _media.PutAsync("keep.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var post = await fixture.Posts.CreatePostAsync(Create(channel, good), user.Headers);
        var png = await _media.PutAsync("edit.png", MediaFixtures.Png(1080, 1080), "image/png");

        var edit = new UpdatePostRequest
        {
            Id = post.Id,
            Content = new Content { Text = "Edited", Media = { new Media { Type = MediaType.Image, Url = png } } },
            UpdateMask = new FieldMask { Paths = { "content" } },
        };
        var bad = await Expect.BadFields(() => fixture.Posts.UpdatePostAsync(edit, user.Headers).ResponseAsync, "content.media[0].url");
        Assert.Equal("Instagram feed image must be JPEG (the file is PNG)", Assert.Single(bad.FieldViolations).Description);

        // The kept image changes behind its URL; an edit of the text only does not fetch it again.
        await _media.PutAsync("keep.jpg", MediaFixtures.Png(1080, 1080), "image/png");
        edit.Content = new Content { Text = "Edited", Media = { post.Content.Media } };
        var edited = await fixture.Posts.UpdatePostAsync(edit, user.Headers);
        Assert.Equal("Edited", edited.Content.Text);
    }

    [Fact]
    public async Task A_validate_only_create_runs_the_media_checks_and_answers_the_post_it_would_make_without_writing_it()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var good = await _media.PutAsync("check-square.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var wide = await _media.PutAsync("check-wide.jpg", MediaFixtures.Jpeg(2000, 1000), "image/jpeg");

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

    private async Task ScheduleAsync(TestUser user, Channel channel) =>
        await fixture.Queue.UpdatePostingScheduleAsync(new UpdatePostingScheduleRequest
        {
            Schedule = new PostingSchedule
            {
                ChannelId = channel.Id, TimeZone = "Europe/Paris",
                Slots = { Enumerable.Range(1, 7).Select(day => new QueueSlot { Weekday = day, TimeOfDay = "09:00" }) },
            },
        }, user.Headers);

    [Fact]
    public async Task Add_to_queue_and_publish_next_check_the_media_before_taking_a_slot()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        await ScheduleAsync(user, channel);
        var png = await _media.PutAsync("queued.png", MediaFixtures.Png(1080, 1080), "image/png");
        var jpeg = await _media.PutAsync("queued.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        AddToQueueRequest Add(string url, bool next) => new()
        {
            ChannelId = channel.Id, PublishNext = next,
            Content = new Content { Text = "Queued", Media = { new Media { Type = MediaType.Image, Url = url } } },
        };

        foreach (var next in new[] { false, true })
        {
            var bad = await Expect.BadFields(() => fixture.Queue.AddToQueueAsync(Add(png, next), user.Headers).ResponseAsync, "content.media[0].url");
            Assert.Equal("Instagram feed image must be JPEG (the file is PNG)", Assert.Single(bad.FieldViolations).Description);
        }
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = channel.Id }, user.Headers)).Posts);

        Assert.Equal(PostStatus.Queued, (await fixture.Queue.AddToQueueAsync(Add(jpeg, next: true), user.Headers)).Status);
    }

    [Fact]
    public async Task A_post_from_a_template_is_checked_against_its_channels_media_rules()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var webp = await _media.PutAsync("template.webp", MediaFixtures.WebP(800, 600), "image/webp");
        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest
        {
            Template = new Template
            {
                Name = "Sale",
                Variables = { new TemplateVariable { Name = "first_name", Type = TemplateVariableType.String } },
                Content = new Content { Text = "Hello {{first_name}}", Media = { new Media { Type = MediaType.Image, Url = webp } } },
            },
        }, user.Headers);

        var bad = await Expect.BadFields(() => fixture.Templates.CreatePostFromTemplateAsync(new CreatePostFromTemplateRequest
        {
            TemplateId = template.Id,
            Variables = { ["first_name"] = "Ada" },
            Post = new CreatePostRequest { ChannelId = channel.Id, PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)) },
        }, user.Headers).ResponseAsync, "post.content.media[0].url");
        Assert.Equal("WhatsApp image must be JPEG or PNG (the file is WebP)", Assert.Single(bad.FieldViolations).Description);
    }

    [Fact]
    public async Task An_import_names_each_rows_bad_media_with_line_and_column_and_writes_nothing()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var jpeg = await _media.PutAsync("import.jpg", MediaFixtures.Jpeg(800, 600), "image/jpeg");
        var webp = await _media.PutAsync("import.webp", MediaFixtures.WebP(800, 600), "image/webp");
        var vorbis = await _media.PutAsync("import.ogg", MediaFixtures.Ogg("vorbis"), "audio/ogg");
        var at = DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        string[] rows =
        [
            $"{channel.Id},{at},,good,image:{jpeg},,,",
            $"{channel.Id},{at},,second item bad,image:{jpeg}|image:{webp},,,",
            $"{channel.Id},{at},,good again,image:{jpeg},,,",
            $"{channel.Id},{at},,,audio:{vorbis},,,",
        ];
        var csv = Google.Protobuf.ByteString.CopyFromUtf8("channel_id,publish_at,time_zone,text,media,recipients,rrule,template\n" + string.Join("\n", rows) + "\n");

        var bad = await Expect.BadFields(() => fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = csv }, user.Headers).ResponseAsync,
            "rows[1].media", "rows[3].media");
        Assert.Equal(2, bad.FieldViolations.Count);
        Assert.Equal("line 3, column 5 (media): content.media[1].url WhatsApp image must be JPEG or PNG (the file is WebP)",
            bad.FieldViolations.Single(v => v.Field == "rows[1].media").Description);
        Assert.Equal("line 5, column 5 (media): content.media[0].url WhatsApp audio must have AAC or Opus audio (the file's audio is Vorbis)",
            bad.FieldViolations.Single(v => v.Field == "rows[3].media").Description);
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest { ChannelId = channel.Id }, user.Headers)).Posts);
    }
}
