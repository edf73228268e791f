using SocialSync.Posts.V1;

namespace SocialSync.MediaInspection;

/// <summary>
/// One kind of media slot on a platform, with the limits its platform publishes (the table with sources is
/// docs/media-rules.md). <see cref="MaxDuration"/> and the aspect bounds are null where the platform sets none.
/// </summary>
public sealed record MediaTarget(
    string Name,
    MediaFormat[] Formats,
    long MaxBytes,
    double? MinAspect = null,
    double? MaxAspect = null,
    TimeSpan? MinDuration = null,
    TimeSpan? MaxDuration = null,
    long? MaxAnimatedBytes = null,
    string[]? VideoCodecs = null,
    string[]? AudioCodecs = null)
{
    private const long MB = 1024 * 1024;
    private static readonly string[] H264OrHevc = ["avc1", "avc3", "hvc1", "hev1"];
    private static readonly string[] Aac = ["mp4a"];

    public static readonly MediaTarget WhatsAppImage = new("WhatsApp image", [MediaFormat.Jpeg, MediaFormat.Png], 5 * MB);
    public static readonly MediaTarget WhatsAppVideo = new("WhatsApp video", [MediaFormat.Mp4, MediaFormat.ThreeGpp], 16 * MB,
        VideoCodecs: ["avc1", "avc3"], AudioCodecs: Aac);
    public static readonly MediaTarget WhatsAppAudio = new("WhatsApp audio", [MediaFormat.Aac, MediaFormat.Amr, MediaFormat.Mp3, MediaFormat.Mp4, MediaFormat.Ogg],
        16 * MB, AudioCodecs: ["mp4a", "opus"]);
    public static readonly MediaTarget WhatsAppDocument = new("WhatsApp document", [], 100 * MB);
    public static readonly MediaTarget WhatsAppSticker = new("WhatsApp sticker", [MediaFormat.WebP], 100 * 1024, MaxAnimatedBytes: 500 * 1024);
    public static readonly MediaTarget InstagramFeedImage = new("Instagram feed image", [MediaFormat.Jpeg], 8 * MB, MinAspect: 4.0 / 5, MaxAspect: 1.91);
    public static readonly MediaTarget InstagramStoryImage = new("Instagram story image", [MediaFormat.Jpeg], 8 * MB);
    public static readonly MediaTarget InstagramReel = new("Instagram reel", [MediaFormat.Mp4, MediaFormat.QuickTime], 300 * MB,
        MinDuration: TimeSpan.FromSeconds(3), MaxDuration: TimeSpan.FromMinutes(15), VideoCodecs: H264OrHevc, AudioCodecs: Aac);
    public static readonly MediaTarget InstagramStoryVideo = new("Instagram story video", [MediaFormat.Mp4, MediaFormat.QuickTime], 100 * MB,
        MinDuration: TimeSpan.FromSeconds(3), MaxDuration: TimeSpan.FromSeconds(60), VideoCodecs: H264OrHevc, AudioCodecs: Aac);
    public static readonly MediaTarget InstagramDirectImage = new("Instagram message image", [MediaFormat.Jpeg, MediaFormat.Png, MediaFormat.Gif], 8 * MB);
    public static readonly MediaTarget InstagramDirectVideo = new("Instagram message video", [MediaFormat.Mp4, MediaFormat.QuickTime], 25 * MB);

    /// <summary>
    /// The slot a post's media item of <paramref name="type"/> fills on a channel; null when the content rules
    /// already refuse the combination (e.g. a document on Instagram). A feed or carousel video is published as a reel.
    /// </summary>
    public static MediaTarget? For(Platform platform, InstagramMode mode, MediaType type) => (platform, mode, type) switch
    {
        (Platform.Whatsapp, _, MediaType.Image) => WhatsAppImage,
        (Platform.Whatsapp, _, MediaType.Video) => WhatsAppVideo,
        (Platform.Whatsapp, _, MediaType.Document) => WhatsAppDocument,
        (Platform.Whatsapp, _, MediaType.Audio) => WhatsAppAudio,
        (Platform.Whatsapp, _, MediaType.Sticker) => WhatsAppSticker,
        (Platform.Instagram, InstagramMode.Story, MediaType.Image) => InstagramStoryImage,
        (Platform.Instagram, InstagramMode.Story, MediaType.Video) => InstagramStoryVideo,
        (Platform.Instagram, InstagramMode.DirectMessage, MediaType.Image) => InstagramDirectImage,
        (Platform.Instagram, InstagramMode.DirectMessage, MediaType.Video) => InstagramDirectVideo,
        (Platform.Instagram, _, MediaType.Image) => InstagramFeedImage,
        (Platform.Instagram, _, MediaType.Video) => InstagramReel,
        _ => null,
    };

    /// <summary>The rule <paramref name="facts"/> break for this slot, said for the user; null when they keep every rule that the facts can tell.</summary>
    public string? Check(MediaFacts facts)
    {
        if (Formats.Length > 0 && !Formats.Contains(facts.Format))
        {
            return $"{Name} must be {string.Join(" or ", Formats.Select(Display))} (the file is {Display(facts.Format)})";
        }
        if (facts.ContentType is { } declared && MediaFacts.MimesOf(facts.Format) is { Length: > 0 } expected
            && declared != "application/octet-stream" && !expected.Contains(declared, StringComparer.OrdinalIgnoreCase))
        {
            return $"{Name}: the server sends Content-Type {declared}, but the file is {Display(facts.Format)}";
        }
        var maxBytes = facts.Animated && MaxAnimatedBytes is { } animated ? animated : MaxBytes;
        if (facts.Size is { } size && size > maxBytes)
        {
            return $"{Name} must be at most {Bytes(maxBytes)}{(facts.Animated && MaxAnimatedBytes is not null ? " when animated" : "")} (the file is {Bytes(size)})";
        }
        if ((MinAspect is not null || MaxAspect is not null) && facts is { Width: > 0 and var width, Height: > 0 and var height })
        {
            var aspect = (double)width / height;
            if (aspect < MinAspect || aspect > MaxAspect)
            {
                return $"{Name} must have an aspect ratio between 4:5 and 1.91:1 (the image is {width}x{height})";
            }
        }
        if (facts.Duration is { } duration && (duration < MinDuration || duration > MaxDuration))
        {
            return $"{Name} must last {Seconds(MinDuration!.Value)} to {Seconds(MaxDuration!.Value)} (the video lasts {Seconds(duration)})";
        }
        if (VideoCodecs is not null && facts.VideoCodecs?.FirstOrDefault(c => !VideoCodecs.Contains(c)) is { } video)
        {
            return $"{Name} must be {Codecs(VideoCodecs)} video (the file's video is {Codec(video)})";
        }
        if (AudioCodecs is not null && facts.AudioCodecs?.FirstOrDefault(c => !AudioCodecs.Contains(c)) is { } audio)
        {
            return $"{Name} must have {Codecs(AudioCodecs)} audio (the file's audio is {Codec(audio)})";
        }
        return null;
    }

    /// <summary>A codec's common name: the sample entry codes of one codec (avc1 and avc3 are both H.264) name it once.</summary>
    private static string Codec(string code) => code switch
    {
        "avc1" or "avc3" => "H.264",
        "hvc1" or "hev1" => "HEVC",
        "mp4a" => "AAC",
        "opus" => "Opus",
        "vorbis" => "Vorbis",
        "flac" => "FLAC",
        "speex" => "Speex",
        "vp09" => "VP9",
        "av01" => "AV1",
        "s263" => "H.263",
        "mp4v" => "MPEG-4 Visual",
        ".mp3" => "MP3",
        _ => $"'{code}'",
    };

    private static string Codecs(string[] codes) => string.Join(" or ", codes.Select(Codec).Distinct());

    private static string Display(MediaFormat format) => format == MediaFormat.Unknown ? "of an unknown type" : format switch
    {
        MediaFormat.Jpeg => "JPEG",
        MediaFormat.Png => "PNG",
        MediaFormat.WebP => "WebP",
        MediaFormat.Gif => "GIF",
        MediaFormat.Mp4 => "MP4",
        MediaFormat.QuickTime => "MOV",
        MediaFormat.ThreeGpp => "3GPP",
        MediaFormat.Ogg => "OGG",
        MediaFormat.Mp3 => "MP3",
        MediaFormat.Pdf => "PDF",
        MediaFormat.Aac => "AAC",
        MediaFormat.Amr => "AMR",
        _ => format.ToString(),
    };

    private static string Bytes(long bytes) =>
        bytes >= MB ? $"{bytes / (double)MB:0.#} MB" : $"{bytes / 1024.0:0.#} KB";

    private static string Seconds(TimeSpan span) =>
        span.TotalSeconds >= 60 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0.#} s";
}
