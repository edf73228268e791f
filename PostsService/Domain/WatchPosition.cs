using System.Buffers.Binary;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// Where a watch stands in the post changes (migration 0026_post_changes.sql): every change of a transaction below
/// <see cref="From"/> was sent. While a range of transactions is sent in several messages, <see cref="Upto"/> is that
/// range's end and <see cref="AfterId"/> the last change sent of it; once the range is sent, From = Upto.
/// </summary>
public readonly record struct WatchPosition(long From, long Upto, long AfterId)
{
    private const byte Format = 1;

    /// <summary>Nothing left of a range: the next read starts a new one at <see cref="From"/>.</summary>
    public bool IsComplete => From == Upto;

    public static WatchPosition At(long transaction) => new(transaction, transaction, 0);

    /// <summary>An opaque resume token: callers must not build one, so its form may change (the first byte says which).</summary>
    public string ToToken()
    {
        Span<byte> bytes = stackalloc byte[25];
        bytes[0] = Format;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], From);
        BinaryPrimitives.WriteInt64BigEndian(bytes[9..], Upto);
        BinaryPrimitives.WriteInt64BigEndian(bytes[17..], AfterId);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The position a token names; null for a token this API did not issue.</summary>
    public static WatchPosition? FromToken(string token)
    {
        if (token.Length != 34)
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[27];
        if (!Convert.TryFromBase64String(token.Replace('-', '+').Replace('_', '/') + "==", bytes, out var written) || written != 25 || bytes[0] != Format)
        {
            return null;
        }
        var position = new WatchPosition(BinaryPrimitives.ReadInt64BigEndian(bytes[1..]), BinaryPrimitives.ReadInt64BigEndian(bytes[9..]),
            BinaryPrimitives.ReadInt64BigEndian(bytes[17..]));
        return position.From >= 0 && position.Upto >= position.From && position.AfterId >= 0 ? position : null;
    }
}
