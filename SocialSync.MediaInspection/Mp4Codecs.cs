using System.Buffers.Binary;
using System.Text;

namespace SocialSync.MediaInspection;

/// <summary>
/// The codecs of an MP4 / MOV / 3GPP file's tracks: the four-character code of each track's first sample entry
/// (<c>avc1</c>/<c>avc3</c> H.264, <c>hvc1</c>/<c>hev1</c> HEVC, <c>mp4a</c> AAC, ...), by the track's handler
/// (<c>vide</c> or <c>soun</c>). MetadataExtractor 2.4.3 reads the movie and track headers but not the sample
/// descriptions (<c>stsd</c>), so this walks the boxes on the path moov/trak/mdia/(hdlr, minf/stbl/stsd) only and
/// reads nothing else.
/// </summary>
public static class Mp4Codecs
{
    /// <summary>
    /// The video and audio codecs of <paramref name="bytes"/> (a file's first bytes); null when the <c>moov</c> box is not
    /// wholly within them (a file that is not "fast-start", or one longer than the cap), so nothing is held against it.
    /// </summary>
    public static (IReadOnlyList<string> Video, IReadOnlyList<string> Audio)? Read(ReadOnlySpan<byte> bytes)
    {
        if (FindBox(bytes, "moov") is not { } moov)
        {
            return null;
        }
        var video = new List<string>();
        var audio = new List<string>();
        foreach (var trak in Boxes(moov, "trak"))
        {
            if (FindBox(trak, "mdia") is not { } mdia || FindBox(mdia, "hdlr") is not { Length: >= 12 } hdlr)
            {
                continue;
            }
            // hdlr: version and flags (4), pre_defined (4), handler_type (4).
            var handler = Encoding.ASCII.GetString(hdlr[8..12]);
            var list = handler switch { "vide" => video, "soun" => audio, _ => null };
            if (list is not null && SampleEntry(mdia) is { } codec)
            {
                list.Add(codec);
            }
        }
        return (video, audio);
    }

    private static string? SampleEntry(ReadOnlySpan<byte> mdia)
    {
        if (FindBox(mdia, "minf") is not { } minf || FindBox(minf, "stbl") is not { } stbl || FindBox(stbl, "stsd") is not { Length: >= 16 } stsd)
        {
            return null;
        }
        // stsd: version and flags (4), entry_count (4), then the first entry's size (4) and type (4).
        return BinaryPrimitives.ReadUInt32BigEndian(stsd[4..8]) == 0 ? null : Encoding.ASCII.GetString(stsd[12..16]);
    }

    /// <summary>The payload of the first box of <paramref name="type"/> directly inside <paramref name="container"/>; null when it is absent or cut off.</summary>
    private static byte[]? FindBox(ReadOnlySpan<byte> container, string type) => Boxes(container, type) is [var first, ..] ? first : null;

    /// <summary>The payloads of the whole boxes of <paramref name="type"/> directly inside <paramref name="container"/>, in order.</summary>
    private static List<byte[]> Boxes(ReadOnlySpan<byte> container, string type)
    {
        var found = new List<byte[]>();
        var wanted = Encoding.ASCII.GetBytes(type);
        var offset = 0;
        while (offset + 8 <= container.Length)
        {
            long size = BinaryPrimitives.ReadUInt32BigEndian(container[offset..]);
            var header = 8;
            if (size == 1)
            {
                if (offset + 16 > container.Length)
                {
                    break;
                }
                size = (long)BinaryPrimitives.ReadUInt64BigEndian(container[(offset + 8)..]);
                header = 16;
            }
            else if (size == 0)
            {
                size = container.Length - offset; // the box runs to the end of the file
            }
            if (size < header || offset + size > container.Length)
            {
                break; // cut off at the byte cap (or damaged): what follows is unknown
            }
            if (container.Slice(offset + 4, 4).SequenceEqual(wanted))
            {
                found.Add(container.Slice(offset + header, (int)size - header).ToArray());
            }
            offset += (int)size;
        }
        return found;
    }
}
