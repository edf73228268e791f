using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.Testing;

/// <summary>One signing key of <see cref="TestOidcIssuer"/>: RS256 (RSA 2048) or ES256 (P-256), with its key id.</summary>
public sealed class TestSigningKey
{
    internal TestSigningKey(string algorithm)
    {
        Algorithm = algorithm;
        var kid = $"{algorithm.ToLowerInvariant()}-{Guid.NewGuid():N}";
        (SecurityKey, Jwk) = algorithm switch
        {
            SecurityAlgorithms.RsaSha256 => Rsa(kid),
            SecurityAlgorithms.EcdsaSha256 => Ecdsa(kid),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "RS256 or ES256"),
        };
    }

    public string Algorithm { get; }

    public string KeyId => SecurityKey.KeyId;

    public AsymmetricSecurityKey SecurityKey { get; }

    /// <summary>The public key as the JWKS publishes it.</summary>
    internal Dictionary<string, string> Jwk { get; }

    private static (AsymmetricSecurityKey, Dictionary<string, string>) Rsa(string kid)
    {
        var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(includePrivateParameters: false);
        return (new RsaSecurityKey(rsa) { KeyId = kid }, new()
        {
            ["kty"] = "RSA", ["use"] = "sig", ["alg"] = SecurityAlgorithms.RsaSha256, ["kid"] = kid,
            ["n"] = Base64UrlEncoder.Encode(p.Modulus), ["e"] = Base64UrlEncoder.Encode(p.Exponent),
        });
    }

    private static (AsymmetricSecurityKey, Dictionary<string, string>) Ecdsa(string kid)
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var p = ecdsa.ExportParameters(includePrivateParameters: false);
        return (new ECDsaSecurityKey(ecdsa) { KeyId = kid }, new()
        {
            ["kty"] = "EC", ["use"] = "sig", ["alg"] = SecurityAlgorithms.EcdsaSha256, ["kid"] = kid, ["crv"] = "P-256",
            ["x"] = Base64UrlEncoder.Encode(p.Q.X), ["y"] = Base64UrlEncoder.Encode(p.Q.Y),
        });
    }
}

/// <summary>
/// An OIDC issuer for tests, on real loopback HTTP: <c>/.well-known/openid-configuration</c> and a JWKS whose keys a
/// test adds and removes while PostsService runs, and access tokens signed with them, as an external provider
/// (Keycloak, Supabase, Entra ID) or SocialSync.Identity issues them.
/// </summary>
public sealed class TestOidcIssuer : IAsyncDisposable
{
    public const string Audience = "socialsync-api";

    private readonly ConcurrentDictionary<string, TestSigningKey> _published = new();
    private readonly WebApplication _app;
    private int _keySetRequests;

    private TestOidcIssuer(int port)
    {
        Authority = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Authority);
        _app = builder.Build();
        _app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Authority,
            ["jwks_uri"] = $"{Authority}/jwks",
            ["authorization_endpoint"] = $"{Authority}/authorize",
            ["token_endpoint"] = $"{Authority}/token",
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256 },
        }));
        _app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref _keySetRequests);
            return Results.Json(new { keys = _published.Values.Select(k => k.Jwk).ToArray() });
        });
    }

    /// <summary>The issuer URL: <c>Auth:Users:Authority</c>, and the <c>iss</c> of its tokens.</summary>
    public string Authority { get; }

    /// <summary>How many times the JWKS was fetched.</summary>
    public int KeySetRequests => Volatile.Read(ref _keySetRequests);

    /// <summary>The settings that make PostsService trust this issuer, refreshing its keys every <paramref name="refresh"/>.</summary>
    public Dictionary<string, string?> Settings(TimeSpan refresh) => new()
    {
        ["Auth__Users__Authority"] = Authority,
        ["Auth__Users__RequireHttpsMetadata"] = "false",
        ["Auth__Users__MetadataRefreshInterval"] = refresh.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
        // Every test's new key must work on its first token, even right after another test's unknown key made a fetch.
        ["Auth__Users__UnknownKeyRefreshInterval"] = "00:00:00",
    };

    public static async Task<TestOidcIssuer> StartAsync()
    {
        var issuer = new TestOidcIssuer(Ports.Free());
        await issuer._app.StartAsync();
        return issuer;
    }

    /// <summary>A new key, published in the JWKS at once.</summary>
    public TestSigningKey AddKey(string algorithm)
    {
        var key = NewUnpublishedKey(algorithm);
        _published[key.KeyId] = key;
        return key;
    }

    /// <summary>A key the JWKS never shows: as an attacker's.</summary>
    public static TestSigningKey NewUnpublishedKey(string algorithm) => new(algorithm);

    public void Remove(TestSigningKey key) => _published.TryRemove(key.KeyId, out _);

    /// <summary>An access token for <paramref name="userId"/>; <paramref name="claims"/> may add or replace claims (iss, aud, role...).</summary>
    public string CreateToken(TestSigningKey key, Guid userId, IDictionary<string, object>? claims = null, TimeSpan? lifetime = null)
    {
        var now = DateTime.UtcNow;
        var all = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Iss] = Authority,
            [JwtRegisteredClaimNames.Aud] = Audience,
            [JwtRegisteredClaimNames.Sub] = userId.ToString(),
            ["scope"] = "openid posts",
        };
        foreach (var (name, value) in claims ?? new Dictionary<string, object>())
        {
            all[name] = value;
        }
        var expires = now + (lifetime ?? TimeSpan.FromHours(1));
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Claims = all,
            IssuedAt = expires < now ? expires - TimeSpan.FromHours(1) : now,
            NotBefore = expires < now ? expires - TimeSpan.FromHours(1) : now,
            Expires = expires,
            TokenType = "at+jwt",
            SigningCredentials = new SigningCredentials(key.SecurityKey, key.Algorithm),
        });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
