using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The whole system with media checks on, fetching only from loopback: the emulator's media files.</summary>
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

/// <summary>
/// Media is checked again just before publishing: the bytes behind a URL may have changed since the post was saved.
/// The files are real bytes served (and replaced) by the Graph API emulator, as a CDN serves a post's media.
/// </summary>
public sealed class MediaRecheckTests(MediaChecksSystemFixture fixture) : IClassFixture<MediaChecksSystemFixture>
{
    private EmulatorMedia Media => fixture.System.Emulator.Media;

    private static string NewName(string name) => $"{Guid.NewGuid():N}-{name}";

    [Fact]
    public async Task A_url_whose_media_changes_after_creation_fails_at_publish_time_with_the_rule_named_before_meta_is_called()
    {
        var user = new TestUser(fixture.System);
        var account = TestUser.NewInstagramId();
        var channel = await user.InstagramChannelAsync(account);
        var name = NewName("changes.jpg");
        var url = await Media.PutAsync(name, MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        // Far enough ahead that the file is changed before the slot even when the machine is loaded.
        var publishAt = DateTimeOffset.UtcNow.AddSeconds(10);
        var post = await fixture.System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Spring sale", Media = { new Media { Type = MediaType.Image, Url = url } } },
            PublishAt = Timestamp.FromDateTimeOffset(publishAt),
        }, user.Auth);

        await Media.PutAsync(name, MediaFixtures.Png(1080, 1080), "image/png");
        // The file must change before its slot comes; a machine too loaded for that says so instead of failing oddly.
        Assert.True(DateTimeOffset.UtcNow < publishAt, "the file changed only after the post's slot had come");

        var finished = await user.FinishedAsync(post);
        Assert.Equal(PostStatus.Failed, finished.Status);
        Assert.Equal("content.media[0].url: Instagram feed image must be JPEG (the file is PNG)", finished.ErrorMessage);
        // Nothing was sent to Meta: the only calls to the account are the insights fetcher's reads (online_followers).
        Assert.All(await user.RequestsAsync(account), r => Assert.Equal("ig_insights", r.GetProperty("operation").GetString()));
        // The file was read at create and again before publishing, the second time seeing the new version.
        Assert.True((await Media.FetchesAsync(name)).Count >= 2);
    }

    [Fact]
    public async Task WhatsApp_audio_and_a_sticker_are_sent_as_audio_and_sticker_messages_without_a_caption()
    {
        var user = new TestUser(fixture.System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account);
        var voice = await Media.PutAsync(NewName("voice.ogg"), MediaFixtures.Ogg("opus"), "audio/ogg");
        var sticker = await Media.PutAsync(NewName("sticker.webp"), MediaFixtures.WebP(512, 512), "image/webp");

        var post = await user.PostAsync(channel, "", (MediaType.Audio, voice), (MediaType.Sticker, sticker));
        Assert.Equal(PostStatus.Published, (await user.FinishedAsync(post)).Status);

        var messages = await user.EffectsAsync(account, "whatsapp_message");
        Assert.Equal(["audio", "sticker"], messages.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal([voice, sticker], messages.Select(m => m.GetProperty("link").GetString()));
        Assert.All(messages, m => Assert.False(m.TryGetProperty("caption", out _)));
    }

    [Fact]
    public async Task WhatsApp_audio_in_ogg_must_be_opus_and_a_vorbis_file_is_refused_at_create()
    {
        var user = new TestUser(fixture.System);
        var channel = await user.WhatsAppChannelAsync(TestUser.NewPhoneNumberId());
        var vorbis = await Media.PutAsync(NewName("music.ogg"), MediaFixtures.Ogg("vorbis"), "audio/ogg");

        var refused = await Assert.ThrowsAsync<global::Grpc.Core.RpcException>(() => user.PostAsync(channel, "", (MediaType.Audio, vorbis)));
        Assert.Equal(global::Grpc.Core.StatusCode.InvalidArgument, refused.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(refused.Trailers.GetValueBytes("grpc-status-details-bin"));
        var violation = Assert.Single(status.Details.Single(d => d.Is(Google.Rpc.BadRequest.Descriptor)).Unpack<Google.Rpc.BadRequest>().FieldViolations);
        Assert.Equal("content.media[0].url", violation.Field);
        Assert.Equal("WhatsApp audio must have AAC or Opus audio (the file's audio is Vorbis)", violation.Description);
    }
}
