using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// ListPosts' page tokens (AIP-158): the sort key of the last post shown, so the next page starts after it however
/// many posts were created or removed before it (an offset would repeat or skip them), and costs the same on the
/// 50th page as on the first. A token also carries a fingerprint of the request's filters, since a token is only
/// valid for the query that issued it, and the first page's count, so later pages can repeat it without counting.
/// </summary>
public static class PostPageTokens
{
    // Version 1: the layout below. A later layout takes another first byte, and a token of an unknown one is refused.
    private const byte Version = 1;
    private const int Length = 1 + 8 + 16 + 8 + 4;

    public static string Encode(PostPosition after, ulong filterFingerprint, int total)
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], after.PublishAt.UtcTicks);
        after.Id.TryWriteBytes(bytes[9..25], bigEndian: true, out _);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[25..], filterFingerprint);
        BinaryPrimitives.WriteInt32BigEndian(bytes[33..], total);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The position, fingerprint and count a token carries; null when this API did not issue it.</summary>
    public static (PostPosition After, ulong FilterFingerprint, int Total)? Decode(string token)
    {
        Span<byte> bytes = stackalloc byte[Length];
        if (token.Length != Base64Url.GetEncodedLength(Length) || !Base64Url.TryDecodeFromChars(token, bytes, out var written)
            || written != Length || bytes[0] != Version)
        {
            return null;
        }
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var total = BinaryPrimitives.ReadInt32BigEndian(bytes[33..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks || total < 0)
        {
            return null;
        }
        var after = new PostPosition(new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes[9..25], bigEndian: true));
        return (after, BinaryPrimitives.ReadUInt64BigEndian(bytes[25..]), total);
    }

    /// <summary>
    /// What a page token must have been issued for: every filter of the request (not its page size, which AIP-158
    /// lets a caller change between pages). Stable across processes and restarts, unlike string.GetHashCode.
    /// </summary>
    public static ulong FingerprintOf(ListPostsRequest request)
    {
        var filters = string.Join('\n', request.StatusFilter, request.Status.ToLowerInvariant(), request.PlatformFilter,
            request.Platform.ToLowerInvariant(), request.ChannelId, request.WorkspaceId, request.PublishTimeStart, request.PublishTimeEnd);
        return BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(filters)));
    }

    /// <summary>
    /// The position <paramref name="token"/> carries and the count of its first page, or (null, null) when none was
    /// sent; a token this API did not issue, or issued for other filters, is a violation of page_token.
    /// </summary>
    public static (PostPosition? After, int? Total) Parse(ListPostsRequest request, FieldViolations violations)
    {
        if (string.IsNullOrEmpty(request.PageToken))
        {
            return (null, null);
        }
        if (Decode(request.PageToken) is not { } decoded)
        {
            violations.Add("page_token", "is not a token this API issued");
            return (null, null);
        }
        if (decoded.FilterFingerprint != FingerprintOf(request))
        {
            violations.Add("page_token", "was issued for other filters: send the same filters as the request that returned it");
            return (null, null);
        }
        return (decoded.After, decoded.Total);
    }
}
