using SocialSync.GraphApiEmulator;

namespace SocialSync.MediaInspection.Tests;

/// <summary>
/// Each published media rule against real bytes served over HTTP by the Graph API emulator (its <c>/__emu/media</c>
/// files, with ETags and ranges): its bad file is refused naming the rule, its good one passes.
/// </summary>
public sealed class MediaRulesTests : IAsyncLifetime
{
    private EmulatorHost _emulator = null!;
    private HttpClient _http = null!;
    private EmulatorMedia _media = null!;
    private readonly MediaInspector _inspector = Inspectors.Create("127.0.0.1/32");

    public async Task InitializeAsync()
    {
        _emulator = await EmulatorApp.StartAsync();
        _http = new HttpClient { BaseAddress = _emulator.BaseAddress };
        _media = new EmulatorMedia(_http);
    }

    public async Task DisposeAsync()
    {
        _inspector.Dispose();
        _http.Dispose();
        await _emulator.DisposeAsync();
    }

    private async Task<string?> Check(string name, byte[] bytes, string contentType, MediaTarget target) =>
        await _inspector.CheckAsync(await _media.PutAsync(name, bytes, contentType), target, CancellationToken.None);

    /// <summary>The fetches of <paramref name="name"/> that got its bytes (not a 304).</summary>
    private async Task<int> BodiesServedAsync(string name) =>
        (await _media.FetchesAsync(name)).Count(f => f.GetProperty("status").GetInt32() is 200 or 206);

    [Fact]
    public async Task An_Instagram_feed_image_must_be_a_jpeg()
    {
        Assert.Null(await Check("square.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg", MediaTarget.InstagramFeedImage));
        var refused = await Check("square.png", MediaFixtures.Png(1080, 1080), "image/png", MediaTarget.InstagramFeedImage);
        Assert.Equal("Instagram feed image must be JPEG (the file is PNG)", refused);
    }

    [Fact]
    public async Task An_Instagram_feed_image_must_be_at_most_8_MB()
    {
        Assert.Null(await Check("big-ok.jpg", MediaFixtures.PaddedTo(MediaFixtures.Jpeg(1080, 1080), 7 * 1024 * 1024), "image/jpeg", MediaTarget.InstagramFeedImage));
        var refused = await Check("big.jpg", MediaFixtures.PaddedTo(MediaFixtures.Jpeg(1080, 1080), 9 * 1024 * 1024), "image/jpeg", MediaTarget.InstagramFeedImage);
        Assert.Equal("Instagram feed image must be at most 8 MB (the file is 9 MB)", refused);
    }

    [Theory]
    [InlineData(1080, 1350, true)]   // 4:5, the tallest allowed
    [InlineData(1910, 1000, true)]   // 1.91:1, the widest allowed
    [InlineData(1000, 1300, false)]  // taller than 4:5
    [InlineData(2000, 1000, false)]  // wider than 1.91:1
    public async Task An_Instagram_feed_image_must_have_an_aspect_ratio_between_4_5_and_1_91(int width, int height, bool accepted)
    {
        var refused = await Check($"{width}x{height}.jpg", MediaFixtures.Jpeg(width, height), "image/jpeg", MediaTarget.InstagramFeedImage);
        if (accepted)
        {
            Assert.Null(refused);
        }
        else
        {
            Assert.Equal($"Instagram feed image must have an aspect ratio between 4:5 and 1.91:1 (the image is {width}x{height})", refused);
        }
    }

    [Fact]
    public async Task A_WhatsApp_image_is_a_jpeg_or_png_of_at_most_5_MB()
    {
        Assert.Null(await Check("wa.png", MediaFixtures.Png(800, 600), "image/png", MediaTarget.WhatsAppImage));
        Assert.Null(await Check("wa.jpg", MediaFixtures.Jpeg(800, 600), "image/jpeg", MediaTarget.WhatsAppImage));
        Assert.Equal("WhatsApp image must be JPEG or PNG (the file is WebP)",
            await Check("wa.webp", MediaFixtures.WebP(800, 600), "image/webp", MediaTarget.WhatsAppImage));
        Assert.Equal("WhatsApp image must be at most 5 MB (the file is 6 MB)",
            await Check("wa-big.png", MediaFixtures.PaddedTo(MediaFixtures.Png(800, 600), 6 * 1024 * 1024), "image/png", MediaTarget.WhatsAppImage));
    }

    [Fact]
    public async Task A_static_WhatsApp_sticker_is_a_webp_of_at_most_100_KB()
    {
        Assert.Null(await Check("sticker.webp", MediaFixtures.WebP(512, 512), "image/webp", MediaTarget.WhatsAppSticker));
        var noisy = MediaFixtures.WebP(300, 300, noise: true);
        Assert.True(noisy.Length > 100 * 1024, $"the noisy sticker is {noisy.Length} bytes");
        var refused = await Check("sticker-big.webp", noisy, "image/webp", MediaTarget.WhatsAppSticker);
        Assert.StartsWith("WhatsApp sticker must be at most 100 KB (the file is ", refused);
        Assert.Equal("WhatsApp sticker must be WebP (the file is PNG)",
            await Check("sticker.png", MediaFixtures.Png(512, 512), "image/png", MediaTarget.WhatsAppSticker));
    }

    [Fact]
    public async Task A_file_whose_content_type_disagrees_with_its_bytes_is_refused()
    {
        var refused = await Check("liar.jpg", MediaFixtures.Jpeg(1080, 1080), "image/png", MediaTarget.InstagramFeedImage);
        Assert.Equal("Instagram feed image: the server sends Content-Type image/png, but the file is JPEG", refused);
    }

    [Fact]
    public async Task A_reel_is_an_mp4_or_mov_of_3_seconds_to_15_minutes()
    {
        Assert.Null(await Check("reel.mp4", MediaFixtures.Mp4(TimeSpan.FromSeconds(10)), "video/mp4", MediaTarget.InstagramReel));
        Assert.Null(await Check("reel.mov", MediaFixtures.Mp4(TimeSpan.FromSeconds(10), brand: "qt  "), "video/quicktime", MediaTarget.InstagramReel));
        Assert.Equal("Instagram reel must last 3 s to 15 min (the video lasts 2 s)",
            await Check("short.mp4", MediaFixtures.Mp4(TimeSpan.FromSeconds(2)), "video/mp4", MediaTarget.InstagramReel));
        Assert.Equal("Instagram reel must last 3 s to 15 min (the video lasts 20 min)",
            await Check("long.mp4", MediaFixtures.Mp4(TimeSpan.FromMinutes(20)), "video/mp4", MediaTarget.InstagramReel));
        Assert.Equal("Instagram reel must be MP4 or MOV (the file is JPEG)",
            await Check("reel.jpg", MediaFixtures.Jpeg(1080, 1920), "image/jpeg", MediaTarget.InstagramReel));
    }

    [Fact]
    public async Task A_story_video_lasts_at_most_60_seconds()
    {
        Assert.Null(await Check("story.mp4", MediaFixtures.Mp4(TimeSpan.FromSeconds(30)), "video/mp4", MediaTarget.InstagramStoryVideo));
        Assert.Equal("Instagram story video must last 3 s to 1 min (the video lasts 1.5 min)",
            await Check("story-long.mp4", MediaFixtures.Mp4(TimeSpan.FromSeconds(90)), "video/mp4", MediaTarget.InstagramStoryVideo));
    }

    [Fact]
    public async Task A_WhatsApp_video_is_an_mp4_or_3gpp()
    {
        Assert.Null(await Check("wa.3gp", MediaFixtures.Mp4(TimeSpan.FromSeconds(10), brand: "3gp5"), "video/3gpp", MediaTarget.WhatsAppVideo));
        Assert.Equal("WhatsApp video must be MP4 or 3GPP (the file is MOV)",
            await Check("wa.mov", MediaFixtures.Mp4(TimeSpan.FromSeconds(10), brand: "qt  "), "video/quicktime", MediaTarget.WhatsAppVideo));
    }

    [Fact]
    public async Task A_missing_file_is_refused_with_its_http_status()
    {
        Assert.Equal("could not be fetched (HTTP 404)", await _inspector.CheckAsync(_media.Url("missing.jpg"), MediaTarget.InstagramFeedImage, CancellationToken.None));
    }

    [Fact]
    public async Task An_unchanged_file_is_answered_from_the_cache_by_its_etag_and_a_changed_one_is_read_again()
    {
        var url = await _media.PutAsync("cached.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        Assert.Null(await _inspector.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Null(await _inspector.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal(1, await BodiesServedAsync("cached.jpg"));

        await _media.PutAsync("cached.jpg", MediaFixtures.Jpeg(2000, 1000), "image/jpeg");
        Assert.Equal("Instagram feed image must have an aspect ratio between 4:5 and 1.91:1 (the image is 2000x1000)",
            await _inspector.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal(2, await BodiesServedAsync("cached.jpg"));
    }

    [Fact]
    public async Task A_fetch_reads_at_most_the_byte_cap_and_sends_no_credentials()
    {
        var url = await _media.PutAsync("capped.jpg", MediaFixtures.PaddedTo(MediaFixtures.Jpeg(1080, 1080), 3 * 1024 * 1024), "image/jpeg");
        var facts = await _inspector.InspectAsync(url, CancellationToken.None);
        Assert.Equal(3 * 1024 * 1024, facts.Size);
        var request = Assert.Single(await _media.FetchesAsync("capped.jpg"));
        Assert.Equal(206, request.GetProperty("status").GetInt32());
        Assert.Equal("bytes=0-262143", request.GetProperty("range").GetString());
        Assert.False(request.GetProperty("sent_authorization").GetBoolean());
        Assert.False(request.GetProperty("sent_cookie").GetBoolean());
        Assert.Equal("must not carry a user name or password",
            await _inspector.CheckAsync(url.Replace("http://", "http://user:secret@", StringComparison.Ordinal), MediaTarget.InstagramFeedImage, CancellationToken.None));
    }

    [Fact]
    public async Task A_reel_or_story_video_is_h264_or_hevc_with_aac_audio()
    {
        var ten = TimeSpan.FromSeconds(10);
        Assert.Null(await Check("reel-avc.mp4", MediaFixtures.Mp4(ten, video: "avc1", audio: "mp4a"), "video/mp4", MediaTarget.InstagramReel));
        Assert.Null(await Check("reel-hevc.mov", MediaFixtures.Mp4(ten, brand: "qt  ", video: "hvc1", audio: "mp4a"), "video/quicktime", MediaTarget.InstagramReel));
        Assert.Null(await Check("story-hev1.mp4", MediaFixtures.Mp4(ten, video: "hev1"), "video/mp4", MediaTarget.InstagramStoryVideo));
        Assert.Equal("Instagram reel must be H.264 or HEVC video (the file's video is VP9)",
            await Check("reel-vp9.mp4", MediaFixtures.Mp4(ten, video: "vp09", audio: "mp4a"), "video/mp4", MediaTarget.InstagramReel));
        Assert.Equal("Instagram reel must have AAC audio (the file's audio is MP3)",
            await Check("reel-mp3.mp4", MediaFixtures.Mp4(ten, video: "avc1", audio: ".mp3"), "video/mp4", MediaTarget.InstagramReel));
        Assert.Equal("Instagram story video must be H.264 or HEVC video (the file's video is AV1)",
            await Check("story-av1.mp4", MediaFixtures.Mp4(ten, video: "av01", audio: "mp4a"), "video/mp4", MediaTarget.InstagramStoryVideo));
    }

    [Fact]
    public async Task A_WhatsApp_video_is_h264_with_aac_audio()
    {
        var ten = TimeSpan.FromSeconds(10);
        Assert.Null(await Check("wa-avc.mp4", MediaFixtures.Mp4(ten, video: "avc1", audio: "mp4a"), "video/mp4", MediaTarget.WhatsAppVideo));
        Assert.Null(await Check("wa-avc.3gp", MediaFixtures.Mp4(ten, brand: "3gp5", video: "avc1", audio: "mp4a"), "video/3gpp", MediaTarget.WhatsAppVideo));
        Assert.Equal("WhatsApp video must be H.264 video (the file's video is HEVC)",
            await Check("wa-hevc.mp4", MediaFixtures.Mp4(ten, video: "hvc1", audio: "mp4a"), "video/mp4", MediaTarget.WhatsAppVideo));
        Assert.Equal("WhatsApp video must be H.264 video (the file's video is H.263)",
            await Check("wa-h263.3gp", MediaFixtures.Mp4(ten, brand: "3gp5", video: "s263", audio: "mp4a"), "video/3gpp", MediaTarget.WhatsAppVideo));
        Assert.Equal("WhatsApp video must have AAC audio (the file's audio is 'samr')",
            await Check("wa-amr.3gp", MediaFixtures.Mp4(ten, brand: "3gp5", video: "avc1", audio: "samr"), "video/3gpp", MediaTarget.WhatsAppVideo));
    }

    [Fact]
    public async Task A_WhatsApp_audio_is_aac_amr_mp3_mp4_or_ogg_opus_of_at_most_16_MB()
    {
        Assert.Null(await Check("voice.ogg", MediaFixtures.Ogg("opus"), "audio/ogg", MediaTarget.WhatsAppAudio));
        Assert.Null(await Check("song.aac", MediaFixtures.AdtsAac(), "audio/aac", MediaTarget.WhatsAppAudio));
        Assert.Null(await Check("note.amr", MediaFixtures.Amr(), "audio/amr", MediaTarget.WhatsAppAudio));
        Assert.Null(await Check("song.mp3", MediaFixtures.Mp3(), "audio/mpeg", MediaTarget.WhatsAppAudio));
        Assert.Null(await Check("song.m4a", MediaFixtures.Mp4(TimeSpan.FromSeconds(30), brand: "M4A ", audio: "mp4a"), "audio/mp4", MediaTarget.WhatsAppAudio));
        Assert.Equal("WhatsApp audio must have AAC or Opus audio (the file's audio is Vorbis)",
            await Check("vorbis.ogg", MediaFixtures.Ogg("vorbis"), "audio/ogg", MediaTarget.WhatsAppAudio));
        Assert.Equal("WhatsApp audio must be AAC or AMR or MP3 or MP4 or OGG (the file is JPEG)",
            await Check("audio.jpg", MediaFixtures.Jpeg(100, 100), "image/jpeg", MediaTarget.WhatsAppAudio));
        Assert.Equal("WhatsApp audio must be at most 16 MB (the file is 17 MB)",
            await Check("long.mp3", MediaFixtures.PaddedTo(MediaFixtures.Mp3(), 17 * 1024 * 1024), "audio/mpeg", MediaTarget.WhatsAppAudio));
    }

    [Fact]
    public async Task An_animated_WhatsApp_sticker_is_a_webp_of_at_most_500_KB()
    {
        var animated = MediaFixtures.AnimatedWebP(512, 512);
        Assert.True((await _inspector.InspectAsync(await _media.PutAsync("animated.webp", animated, "image/webp"), CancellationToken.None)).Animated);
        // 300 KB: over the static limit, within the animated one.
        Assert.Null(await Check("animated-300.webp", MediaFixtures.PaddedTo(animated, 300 * 1024), "image/webp", MediaTarget.WhatsAppSticker));
        Assert.Equal("WhatsApp sticker must be at most 100 KB (the file is 300 KB)",
            await Check("static-300.webp", MediaFixtures.PaddedTo(MediaFixtures.WebP(512, 512), 300 * 1024), "image/webp", MediaTarget.WhatsAppSticker));
        Assert.Equal("WhatsApp sticker must be at most 500 KB when animated (the file is 600 KB)",
            await Check("animated-600.webp", MediaFixtures.PaddedTo(animated, 600 * 1024), "image/webp", MediaTarget.WhatsAppSticker));
    }

    [Fact]
    public async Task A_video_whose_movie_box_is_past_the_byte_cap_is_not_held_to_its_codecs()
    {
        // An MP4 that is not "fast-start": its moov box follows 300 KB of media data, past the bytes read.
        var moovLast = MediaFixtures.Mp4(TimeSpan.FromSeconds(10), video: "vp09");
        var ftypLength = 8 + 16;
        var mdat = new byte[300 * 1024];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(mdat, (uint)mdat.Length);
        "mdat"u8.CopyTo(mdat.AsSpan(4));
        byte[] file = [.. moovLast[..ftypLength], .. mdat, .. moovLast[ftypLength..]];
        var facts = await _inspector.InspectAsync(await _media.PutAsync("slow-start.mp4", file, "video/mp4"), CancellationToken.None);
        Assert.Equal(MediaFormat.Mp4, facts.Format);
        Assert.Null(facts.VideoCodecs);
        Assert.Null(MediaTarget.InstagramReel.Check(facts));
    }
}
