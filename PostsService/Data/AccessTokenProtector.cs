using System.Security.Cryptography;
using System.Text;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Encrypts channel access tokens at rest with AES-256-GCM. Layout: version(1) | nonce(12) | tag(16) | ciphertext.
/// The key is Tokens:EncryptionKey, a secret setting required at start-up (the AppHost generates it): its base64
/// bytes, or its text where it is not base64, hashed to 256 bits.
/// </summary>
public sealed class AccessTokenProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public const string KeySetting = "Tokens:EncryptionKey";

    public AccessTokenProtector(IConfiguration configuration)
    {
        var configured = configuration[KeySetting] is { Length: > 0 } key ? key : throw new InvalidOperationException($"{KeySetting} is not set.");
        var bytes = new byte[configured.Length];
        _key = SHA256.HashData(Convert.TryFromBase64String(configured, bytes, out var written) ? bytes.AsSpan(0, written) : Encoding.UTF8.GetBytes(configured));
    }

    public byte[] Protect(string token)
    {
        var plaintext = Encoding.UTF8.GetBytes(token);
        var output = new byte[1 + NonceSize + TagSize + plaintext.Length];
        output[0] = FormatVersion;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceSize + TagSize), output.AsSpan(1 + NonceSize, TagSize));
        return output;
    }

    public string Unprotect(byte[] protectedToken)
    {
        if (protectedToken.Length < 1 + NonceSize + TagSize || protectedToken[0] != FormatVersion)
        {
            throw new CryptographicException("Unknown access token format.");
        }
        var plaintext = new byte[protectedToken.Length - 1 - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(protectedToken.AsSpan(1, NonceSize), protectedToken.AsSpan(1 + NonceSize + TagSize),
            protectedToken.AsSpan(1 + NonceSize, TagSize), plaintext);
        return Encoding.UTF8.GetString(plaintext);
    }
}
