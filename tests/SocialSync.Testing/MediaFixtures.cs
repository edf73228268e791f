using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace SocialSync.Testing;

/// <summary>
/// Real media bytes for the rules: images encoded by Skia (JPEG, PNG, static and animated WebP), MP4/MOV/3GPP files
/// with a movie header of a given duration and tracks of given codecs, OGG streams (Opus, Vorbis), ADTS AAC, AMR, MP3.
/// </summary>
public static class MediaFixtures
{
    public static byte[] Image(SKEncodedImageFormat format, int width, int height, bool noise = false, int quality = 90)
    {
        using var bitmap = new SKBitmap(width, height);
        if (noise)
        {
            var random = new Random(16);
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    bitmap.SetPixel(x, y, new SKColor((uint)random.Next() | 0xFF000000));
                }
            }
        }
        else
        {
            bitmap.Erase(new SKColor(30, 120, 200));
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] Jpeg(int width, int height) => Image(SKEncodedImageFormat.Jpeg, width, height);

    public static byte[] Png(int width, int height) => Image(SKEncodedImageFormat.Png, width, height);

    public static byte[] WebP(int width, int height, bool noise = false) => Image(SKEncodedImageFormat.Webp, width, height, noise, quality: 100);

    /// <summary>A file padded after its end to <paramref name="size"/> bytes (decoders stop at the end marker; the size rule sees the whole).</summary>
    public static byte[] PaddedTo(byte[] file, int size)
    {
        var padded = new byte[size];
        file.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>
    /// An MP4 (brand isom, or <paramref name="brand"/>: "qt  " MOV, "3gp5" 3GPP, "M4A " MP4 audio) whose movie header
    /// says it lasts <paramref name="duration"/>, with a video track whose sample entry is <paramref name="video"/>
    /// (avc1 H.264, hvc1 HEVC, vp09 VP9, ...) and an audio track of <paramref name="audio"/> (mp4a AAC, .mp3, ...) when given.
    /// </summary>
    public static byte[] Mp4(TimeSpan duration, string brand = "isom", string? video = null, string? audio = null)
    {
        const uint timeScale = 1000;
        var mvhd = new byte[100];
        // version 0, flags 0, creation and modification time 0
        BinaryPrimitives.WriteUInt32BigEndian(mvhd.AsSpan(12), timeScale);
        BinaryPrimitives.WriteUInt32BigEndian(mvhd.AsSpan(16), (uint)duration.TotalMilliseconds);
        BinaryPrimitives.WriteUInt32BigEndian(mvhd.AsSpan(20), 0x00010000); // rate 1.0
        BinaryPrimitives.WriteUInt16BigEndian(mvhd.AsSpan(24), 0x0100);     // volume 1.0
        int[] matrix = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];
        for (var i = 0; i < matrix.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(mvhd.AsSpan(36 + i * 4), matrix[i]);
        }
        BinaryPrimitives.WriteUInt32BigEndian(mvhd.AsSpan(96), 2); // next track id
        var ftyp = Box("ftyp", [.. Encoding.ASCII.GetBytes(brand), 0, 0, 2, 0, .. Encoding.ASCII.GetBytes("isommp41")]);
        byte[] moov = [.. Box("mvhd", mvhd), .. video is null ? [] : Track("vide", video), .. audio is null ? [] : Track("soun", audio)];
        return [.. ftyp, .. Box("moov", moov)];
    }

    /// <summary>trak/mdia with its handler (vide, soun) and minf/stbl/stsd holding one sample entry of <paramref name="codec"/>.</summary>
    private static byte[] Track(string handler, string codec)
    {
        // hdlr: version and flags, pre_defined, handler_type, three reserved words, an empty name.
        byte[] hdlr = [0, 0, 0, 0, 0, 0, 0, 0, .. Encoding.ASCII.GetBytes(handler), .. new byte[12], 0];
        // A sample entry: six reserved bytes and data_reference_index 1 (the codec's own fields are not read).
        byte[] entry = Box(codec, [0, 0, 0, 0, 0, 0, 0, 1]);
        byte[] stsd = [0, 0, 0, 0, 0, 0, 0, 1, .. entry];
        return Box("trak", Box("mdia", [.. Box("hdlr", hdlr), .. Box("minf", Box("stbl", Box("stsd", stsd)))]));
    }

    /// <summary>
    /// An animated WebP: VP8X with the animation flag, ANIM, and <paramref name="frames"/> ANMF frames, each a copy of
    /// a Skia-encoded image.
    /// </summary>
    public static byte[] AnimatedWebP(int width, int height, int frames = 2)
    {
        var still = WebP(width, height);
        var image = RiffChunks(still).First(c => c.Type is "VP8 " or "VP8L").Chunk;
        var vp8x = new byte[10];
        vp8x[0] = 0x02; // animation
        WriteUInt24(vp8x.AsSpan(4), width - 1);
        WriteUInt24(vp8x.AsSpan(7), height - 1);
        byte[] anim = [0, 0, 0, 0, 0, 0]; // background colour, loop forever
        var chunks = new List<byte>([.. RiffChunk("VP8X", vp8x), .. RiffChunk("ANIM", anim)]);
        for (var i = 0; i < frames; i++)
        {
            var header = new byte[16];
            WriteUInt24(header.AsSpan(6), width - 1);
            WriteUInt24(header.AsSpan(9), height - 1);
            WriteUInt24(header.AsSpan(12), 100); // 100 ms a frame
            chunks.AddRange(RiffChunk("ANMF", [.. header, .. image]));
        }
        byte[] riff = [.. "WEBP"u8, .. chunks];
        var file = new byte[8 + riff.Length];
        "RIFF"u8.CopyTo(file);
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)riff.Length);
        riff.CopyTo(file, 8);
        return file;
    }

    /// <summary>An OGG stream's first page holding the identification header of <paramref name="codec"/> ("opus" or "vorbis").</summary>
    public static byte[] Ogg(string codec)
    {
        byte[] packet = codec switch
        {
            // OpusHead: version 1, 2 channels, pre-skip 312, 48 kHz, gain 0, mapping family 0.
            "opus" => [.. "OpusHead"u8, 1, 2, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0],
            // Vorbis identification header: version 0, 2 channels, 44.1 kHz, bitrates, block sizes, framing bit.
            "vorbis" => [1, .. "vorbis"u8, 0, 0, 0, 0, 2, 0x44, 0xAC, 0, 0, 0, 0, 0, 0, 0, 0xEE, 0x02, 0, 0, 0, 0, 0, 0xB8, 1],
            _ => throw new ArgumentOutOfRangeException(nameof(codec), codec, "opus or vorbis"),
        };
        // Page header: capture pattern, version 0, beginning of stream, granule 0, serial 1, page 0, CRC, one segment.
        byte[] page = [.. "OggS"u8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, (byte)packet.Length, .. packet];
        return page;
    }

    /// <summary>An AAC file in ADTS frames (MPEG-4 AAC LC, 44.1 kHz, stereo) of silence.</summary>
    public static byte[] AdtsAac(int frames = 10)
    {
        byte[] frame = [0xFF, 0xF1, 0x50, 0x80, 0x01, 0xFF, 0xFC, 0x21, 0x00, 0x49, 0x90, 0x02, 0x19, 0x00, 0x23, 0x80];
        var length = frame.Length;
        frame[3] = (byte)(0x80 | (length >> 11));
        frame[4] = (byte)(length >> 3);
        frame[5] = (byte)(((length & 7) << 5) | 0x1F);
        return [.. Enumerable.Repeat(frame, frames).SelectMany(f => f)];
    }

    /// <summary>An AMR narrow-band file: its magic and silent frames.</summary>
    public static byte[] Amr(int frames = 10) => [.. "#!AMR\n"u8, .. Enumerable.Repeat((byte)0x7C, frames)];

    /// <summary>An MP3 file: an ID3v2 tag and MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz) of silence.</summary>
    public static byte[] Mp3(int frames = 10)
    {
        byte[] id3 = [.. "ID3"u8, 4, 0, 0, 0, 0, 0, 0];
        var frame = new byte[417];
        frame[0] = 0xFF;
        frame[1] = 0xFB;
        frame[2] = 0x90;
        frame[3] = 0x64;
        return [.. id3, .. Enumerable.Repeat(frame, frames).SelectMany(f => f)];
    }

    private static IEnumerable<(string Type, byte[] Chunk)> RiffChunks(byte[] riff)
    {
        for (var offset = 12; offset + 8 <= riff.Length;)
        {
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(riff.AsSpan(offset + 4));
            var whole = 8 + size + (size & 1);
            yield return (Encoding.ASCII.GetString(riff, offset, 4), riff[offset..Math.Min(riff.Length, offset + whole)]);
            offset += whole;
        }
    }

    private static byte[] RiffChunk(string type, byte[] payload)
    {
        var chunk = new byte[8 + payload.Length + (payload.Length & 1)];
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(chunk, 8);
        return chunk;
    }

    private static void WriteUInt24(Span<byte> target, int value)
    {
        target[0] = (byte)value;
        target[1] = (byte)(value >> 8);
        target[2] = (byte)(value >> 16);
    }

    private static byte[] Box(string type, byte[] payload)
    {
        var box = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(box, (uint)box.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(box, 4);
        payload.CopyTo(box, 8);
        return box;
    }
}
