using System.Security.Cryptography;

namespace SocialSync.PublisherService.Webhooks;

/// <summary>Meta's webhook signature: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256(app secret, raw body)&gt;</c>.</summary>
public static class MetaSignature
{
    public const string Header = "X-Hub-Signature-256";
    private const string Prefix = "sha256=";

    /// <summary>True only when <paramref name="header"/> is the body's signature under <paramref name="appSecret"/> (compared in constant time).</summary>
    public static bool IsValid(string? header, ReadOnlySpan<byte> body, ReadOnlySpan<byte> appSecret)
    {
        if (header is null || !header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) || appSecret.IsEmpty)
        {
            return false;
        }
        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var hex = header.AsSpan(Prefix.Length).Trim();
        if (hex.Length != claimed.Length * 2 || Convert.FromHexString(hex, claimed, out _, out var written) != System.Buffers.OperationStatus.Done
            || written != claimed.Length)
        {
            return false;
        }
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(appSecret, body, actual);
        return CryptographicOperations.FixedTimeEquals(actual, claimed);
    }
}
