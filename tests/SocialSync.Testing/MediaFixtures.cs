using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace SocialSync.Testing;

/// <summary>Real media bytes for the rules: images encoded by Skia, MP4 files with a movie header of a given duration.</summary>
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

    /// <summary>An MP4 (brand isom, or <paramref name="brand"/>) whose movie header says it lasts <paramref name="duration"/>.</summary>
    public static byte[] Mp4(TimeSpan duration, string brand = "isom")
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
        return [.. ftyp, .. Box("moov", Box("mvhd", mvhd))];
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
