using System.Text;
using MetadataExtractor;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Png;
using MetadataExtractor.Formats.QuickTime;
using MetadataExtractor.Formats.WebP;
using MetadataExtractor.Util;

namespace SocialSync.MediaInspection;

/// <summary>The container a media file's bytes are in, as its first bytes (not its name or Content-Type) say.</summary>
public enum MediaFormat
{
    Unknown,
    Jpeg,
    Png,
    WebP,
    Gif,
    Mp4,
    QuickTime,
    ThreeGpp,
    Ogg,
    Mp3,
    Pdf,
    Aac,
    Amr,
}

/// <summary>
/// What SocialSync knows of a media file from its headers and first bytes; null where the bytes read do not say.
/// <see cref="VideoCodecs"/> and <see cref="AudioCodecs"/> are the tracks' codecs as four-character codes (MP4, MOV,
/// 3GPP: <c>avc1</c>, <c>hvc1</c>, <c>mp4a</c>, ...) or the OGG stream's codec (<c>opus</c>, <c>vorbis</c>).
/// </summary>
public sealed record MediaFacts(MediaFormat Format, string? ContentType, long? Size, int? Width, int? Height, bool Animated, TimeSpan? Duration,
    IReadOnlyList<string>? VideoCodecs = null, IReadOnlyList<string>? AudioCodecs = null)
{
    /// <summary>Reads the facts from a fetch's first bytes with MetadataExtractor; bytes it cannot read leave the facts unknown.</summary>
    public static MediaFacts Read(FetchedMedia fetched)
    {
        var format = Detect(fetched.FirstBytes);
        IReadOnlyList<MetadataExtractor.Directory> directories = [];
        if (format is MediaFormat.Jpeg or MediaFormat.Png or MediaFormat.WebP or MediaFormat.Gif or MediaFormat.Mp4 or MediaFormat.QuickTime or MediaFormat.ThreeGpp)
        {
            try
            {
                directories = ImageMetadataReader.ReadMetadata(new MemoryStream(fetched.FirstBytes, writable: false));
            }
            catch (Exception ex) when (ex is ImageProcessingException or IOException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                // Cut-off or damaged headers: the facts stay unknown and only the rules that need no dimensions apply.
            }
        }
        var (width, height) = Dimensions(format, directories);
        var (video, audio) = CodecsOf(format, fetched.FirstBytes);
        return new MediaFacts(format, fetched.ContentType, fetched.Size, width, height, IsAnimatedWebP(directories), DurationOf(directories), video, audio);
    }

    private static (IReadOnlyList<string>? Video, IReadOnlyList<string>? Audio) CodecsOf(MediaFormat format, byte[] bytes)
    {
        if (format is MediaFormat.Mp4 or MediaFormat.QuickTime or MediaFormat.ThreeGpp)
        {
            return Mp4Codecs.Read(bytes) is { } tracks ? (tracks.Video, tracks.Audio) : (null, null);
        }
        if (format == MediaFormat.Ogg)
        {
            // The first page of an OGG stream holds its codec's identification header.
            var head = bytes.AsSpan(0, Math.Min(bytes.Length, 512));
            return head.IndexOf("OpusHead"u8) >= 0 ? ([], ["opus"])
                : head.IndexOf("\u0001vorbis"u8) >= 0 ? ([], ["vorbis"])
                : head.IndexOf("Speex   "u8) >= 0 ? ([], ["speex"])
                : head.IndexOf("\u007fFLAC"u8) >= 0 ? ([], ["flac"])
                : (null, null);
        }
        return (null, null);
    }

    /// <summary>The format by magic bytes: MetadataExtractor's detector, plus the ISO brands and types it does not tell apart.</summary>
    public static MediaFormat Detect(byte[] bytes)
    {
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, 16));
        if (head.StartsWith("OggS"u8))
        {
            return MediaFormat.Ogg;
        }
        if (head.StartsWith("%PDF"u8))
        {
            return MediaFormat.Pdf;
        }
        if (head.StartsWith("#!AMR"u8))
        {
            return MediaFormat.Amr;
        }
        if (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xF6) == 0xF0)
        {
            // An ADTS frame header (AAC): a sync word like MP3's, but with the layer bits 00, which MP3 never uses.
            return MediaFormat.Aac;
        }
        if (head.StartsWith("ID3"u8) || (head.Length >= 2 && head[0] == 0xFF && (head[1] & 0xE0) == 0xE0 && (head[1] & 0x06) != 0))
        {
            // An ID3v2 tag or an MPEG audio frame (layer bits not 00), told here: MetadataExtractor's detector missed ID3-tagged files.
            return MediaFormat.Mp3;
        }
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            var brand = Encoding.ASCII.GetString(head[8..12]);
            return brand.StartsWith("3g", StringComparison.Ordinal) ? MediaFormat.ThreeGpp
                : brand == "qt  " ? MediaFormat.QuickTime
                : MediaFormat.Mp4;
        }
        FileType type;
        try
        {
            type = FileTypeDetector.DetectFileType(new MemoryStream(bytes, writable: false));
        }
        catch (IOException)
        {
            return MediaFormat.Unknown;
        }
        return type switch
        {
            FileType.Jpeg => MediaFormat.Jpeg,
            FileType.Png => MediaFormat.Png,
            FileType.WebP => MediaFormat.WebP,
            FileType.Gif => MediaFormat.Gif,
            FileType.Mp3 => MediaFormat.Mp3,
            _ => MediaFormat.Unknown,
        };
    }

    /// <summary>The MIME types SocialSync expects a server to send for <paramref name="format"/> (empty: any).</summary>
    public static string[] MimesOf(MediaFormat format) => format switch
    {
        MediaFormat.Jpeg => ["image/jpeg"],
        MediaFormat.Png => ["image/png"],
        MediaFormat.WebP => ["image/webp"],
        MediaFormat.Gif => ["image/gif"],
        MediaFormat.Mp4 => ["video/mp4", "audio/mp4"],
        MediaFormat.QuickTime => ["video/quicktime"],
        MediaFormat.ThreeGpp => ["video/3gpp", "audio/3gpp"],
        MediaFormat.Ogg => ["audio/ogg", "application/ogg"],
        MediaFormat.Mp3 => ["audio/mpeg", "audio/mp3"],
        MediaFormat.Pdf => ["application/pdf"],
        MediaFormat.Aac => ["audio/aac", "audio/x-aac"],
        MediaFormat.Amr => ["audio/amr"],
        _ => [],
    };

    private static (int? Width, int? Height) Dimensions(MediaFormat format, IReadOnlyList<MetadataExtractor.Directory> directories)
    {
        return format switch
        {
            MediaFormat.Jpeg => Pair<JpegDirectory>(JpegDirectory.TagImageWidth, JpegDirectory.TagImageHeight),
            MediaFormat.Png => Pair<PngDirectory>(PngDirectory.TagImageWidth, PngDirectory.TagImageHeight),
            MediaFormat.WebP => Pair<WebPDirectory>(WebPDirectory.TagImageWidth, WebPDirectory.TagImageHeight),
            _ => (null, null),
        };

        (int?, int?) Pair<T>(int widthTag, int heightTag) where T : MetadataExtractor.Directory =>
            directories.OfType<T>().FirstOrDefault() is { } d && d.TryGetInt32(widthTag, out var w) && d.TryGetInt32(heightTag, out var h)
                ? (w, h)
                : (null, null);
    }

    private static bool IsAnimatedWebP(IReadOnlyList<MetadataExtractor.Directory> directories) =>
        directories.OfType<WebPDirectory>().FirstOrDefault() is { } d && d.TryGetBoolean(WebPDirectory.TagIsAnimation, out var animated) && animated;

    private static TimeSpan? DurationOf(IReadOnlyList<MetadataExtractor.Directory> directories)
    {
        if (directories.OfType<QuickTimeMovieHeaderDirectory>().FirstOrDefault() is not { } header)
        {
            return null;
        }
        return header.GetObject(QuickTimeMovieHeaderDirectory.TagDuration) switch
        {
            TimeSpan duration => duration,
            // Older readers keep the raw count of time-scale units.
            IConvertible units when header.TryGetInt64(QuickTimeMovieHeaderDirectory.TagTimeScale, out var scale) && scale > 0 =>
                TimeSpan.FromSeconds(units.ToDouble(null) / scale),
            _ => null,
        };
    }
}
