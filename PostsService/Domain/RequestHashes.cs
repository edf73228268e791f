using Google.Protobuf;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// How a create's request_id (AIP-155) tells a retry from a reuse, for posts and experiments alike: a SHA-256 of the
/// request in canonical form (its protobuf encoding without the request_id: fields in number order and no maps, so
/// equal requests give equal bytes), stored with what the create made.
/// </summary>
public static class RequestHashes
{
    public static byte[] Of(IMessage canonical) => System.Security.Cryptography.SHA256.HashData(canonical.ToByteArray());

    /// <summary>
    /// Whether a create hashed <paramref name="current"/> repeats the one stored with <paramref name="stored"/>. Rows made
    /// before requests were hashed carry none: such a repeat is taken as the retry it most likely is.
    /// </summary>
    public static bool IsRepeat(byte[]? stored, byte[]? current) =>
        stored is null || current is null || stored.AsSpan().SequenceEqual(current);
}
