using System.Security.Cryptography;
using System.Text;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Encrypts channel access tokens at rest with AES-256-GCM. Layout: version(1) | nonce(12) | tag(16) | ciphertext.
/// The key is base64 in Tokens:EncryptionKey (an AppHost secret parameter).
/// </summary>
public sealed class AccessTokenProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public AccessTokenProtector(IConfiguration configuration)
    {
        var configured = configuration["Tokens:EncryptionKey"];
        _key = string.IsNullOrWhiteSpace(configured)
            ? SHA256.HashData("socialsync-development-token-key"u8)
            : SHA256.HashData(Convert.FromBase64String(configured));
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
