using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The whole system with media checks on, fetching only from the loopback media server.</summary>
public sealed class MediaChecksSystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Media__Checks"] = "true",
            ["Media__AllowedHosts__0"] = "127.0.0.1/32",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>Media is checked again just before publishing: the bytes behind a URL may have changed since the post was saved.</summary>
public sealed class MediaRecheckTests(MediaChecksSystemFixture fixture) : IClassFixture<MediaChecksSystemFixture>, IAsyncLifetime
{
    private MediaServer _media = null!;

    public async Task InitializeAsync() => _media = await MediaServer.StartAsync();

    public async Task DisposeAsync() => await _media.DisposeAsync();

    [Fact]
    public async Task A_url_whose_media_changes_after_creation_fails_at_publish_time_with_the_rule_named_before_meta_is_called()
    {
        var user = new TestUser(fixture.System);
        var account = TestUser.NewInstagramId();
        var channel = await user.InstagramChannelAsync(account);
        var url = _media.Put("changes.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var post = await fixture.System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Spring sale", Media = { new Media { Type = MediaType.Image, Url = url } } },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(3)),
        }, user.Auth);

        _media.Put("changes.jpg", MediaFixtures.Png(1080, 1080), "image/png");

        var finished = await user.FinishedAsync(post);
        Assert.Equal(PostStatus.Failed, finished.Status);
        Assert.Equal("content.media[0].url: Instagram feed image must be JPEG (the file is PNG)", finished.ErrorMessage);
        Assert.Empty(await user.RequestsAsync(account));
    }
}
