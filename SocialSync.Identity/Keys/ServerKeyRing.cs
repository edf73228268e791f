using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using SocialSync.Identity.Data;

namespace SocialSync.Identity.Keys;

/// <summary>
/// The keys OpenIddict signs and encrypts with, read from identitydb at start-up and generated there on the very
/// first start: no key is a value in the repository, and tokens issued before a restart still verify after it.
/// Every signing key in the table is published in the JWKS; the newest signs. Rotation: insert a newer key (or let
/// a new start generate one after deleting the newest), keep the old one until the tokens it signed have expired.
/// </summary>
public sealed partial class ServerKeyRing(TimeProvider time, ILogger<ServerKeyRing> log)
{
    private const int RsaKeyBits = 2048;
    private const int AesKeyBytes = 32;
    private const long AdvisoryLockKey = 0x49_64_4B_65_79; // "IdKey": replicas starting together generate one key

    private IReadOnlyList<SecurityKey>? _signing;
    private IReadOnlyList<SecurityKey>? _encryption;

    /// <summary>Newest first: OpenIddict signs with the first.</summary>
    public IReadOnlyList<SecurityKey> SigningKeys => _signing ?? throw NotLoaded();

    public IReadOnlyList<SecurityKey> EncryptionKeys => _encryption ?? throw NotLoaded();

    public async Task LoadAsync(IdentityDb db, CancellationToken cancellationToken)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.Database.ExecuteSqlAsync($"select pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
            foreach (var use in new[] { ServerKeyUse.Signing, ServerKeyUse.Encryption })
            {
                if (!await db.ServerKeys.AnyAsync(k => k.Use == use, cancellationToken))
                {
                    db.ServerKeys.Add(new ServerKey { Use = use, Material = Generate(use), CreatedAt = time.GetUtcNow() });
                    LogKeyGenerated(use);
                }
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var keys = await db.ServerKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id).ToListAsync(cancellationToken);
        _signing = keys.Where(k => k.Use == ServerKeyUse.Signing).Select(k => ToRsaKey(k.Material)).ToList();
        _encryption = keys.Where(k => k.Use == ServerKeyUse.Encryption).Select(k => (SecurityKey)new SymmetricSecurityKey(k.Material)).ToList();
        LogKeysLoaded(_signing.Count, _encryption.Count);
    }

    private static byte[] Generate(string use)
    {
        if (use == ServerKeyUse.Encryption)
        {
            return RandomNumberGenerator.GetBytes(AesKeyBytes);
        }
        using var rsa = RSA.Create(RsaKeyBits);
        return rsa.ExportPkcs8PrivateKey();
    }

    private static RsaSecurityKey ToRsaKey(byte[] pkcs8)
    {
        var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var key = new RsaSecurityKey(rsa);
        // A stable key id (the RFC 7638 thumbprint): the same key keeps its kid across restarts, so validators'
        // cached JWKS stay valid.
        key.KeyId = Base64UrlEncoder.Encode(key.ComputeJwkThumbprint());
        return key;
    }

    private static InvalidOperationException NotLoaded() =>
        new("The server keys are read from identitydb at start-up (PrepareDatabaseAsync) before the first request.");

    [LoggerMessage(101, LogLevel.Information, "Generated the identity provider's first {Use} key")]
    private partial void LogKeyGenerated(string use);

    [LoggerMessage(102, LogLevel.Information, "Loaded {Signing} signing and {Encryption} encryption keys")]
    private partial void LogKeysLoaded(int signing, int encryption);
}
