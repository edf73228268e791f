using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// How PostsService knows its users (section <c>Auth:Users</c>): access tokens of an OIDC issuer
/// (<see cref="Authority"/>, checked by its discovery document and JWKS), HS256 tokens signed with a shared secret
/// (<see cref="SigningKey"/>, only when set), or both. docs/security.md shows the settings of external providers.
/// </summary>
public sealed class UserTokenOptions
{
    public const string SectionName = "Auth:Users";
    public const string AuthoritySetting = SectionName + ":" + nameof(Authority);
    public const string SigningKeySetting = SectionName + ":" + nameof(SigningKey);

    /// <summary>The development HS256 key: refused outside Development like every value written in the repository.</summary>
    public const string DevelopmentSigningKey = "socialsync-development-signing-key-change-me-0123456789";

    /// <summary>The OIDC issuer URL; its <c>/.well-known/openid-configuration</c> names the issuer and the JWKS.</summary>
    public string? Authority { get; set; }

    /// <summary>The <c>aud</c> every user token must carry, whoever signed it.</summary>
    public string Audience { get; set; } = "socialsync-api";

    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>How long fetched keys are trusted: a key the issuer removed is refused at most this long after.</summary>
    public TimeSpan MetadataRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The least time between two fetches caused by a token whose key id is unknown: a new key is accepted on its first
    /// token, while tokens with made-up key ids cannot make the service call the issuer more often than this.
    /// </summary>
    public TimeSpan UnknownKeyRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The claim holding the user's UUID: <c>sub</c> for most providers, <c>oid</c> for Entra ID.</summary>
    public string UserIdClaim { get; set; } = JwtRegisteredClaimNames.Sub;

    /// <summary>An HS256 key for user tokens; no default outside Development (<see cref="SecretSettings"/>).</summary>
    public string? SigningKey { get; set; }

    /// <summary>The <c>iss</c> of HS256 user tokens.</summary>
    public string Issuer { get; set; } = "socialsync";

    public bool HasAuthority => !string.IsNullOrWhiteSpace(Authority);

    public bool HasSigningKey => !string.IsNullOrEmpty(SigningKey);

    public TokenSigning Signing => new(SigningKey ?? "", Issuer, Audience);
}

/// <summary>
/// Service-to-service tokens (section <c>Auth:Services</c>): HS256 with a key only the three services hold, and an
/// issuer and audience of their own, so no user token (whoever signed it) is ever taken for a service's.
/// </summary>
public sealed class ServiceTokenOptions
{
    public const string SectionName = "Auth:Services";
    public const string SigningKeySetting = SectionName + ":" + nameof(SigningKey);
    public const string DevelopmentSigningKey = "socialsync-development-service-key-change-me-0123456789";

    public string SigningKey { get; set; } = "";
    public string Issuer { get; set; } = "socialsync-services";
    public string Audience { get; set; } = "socialsync-internal";

    public TokenSigning Signing => new(SigningKey, Issuer, Audience);
}

/// <summary>The key, issuer and audience of one kind of HS256 token.</summary>
public sealed record TokenSigning(string SigningKey, string Issuer, string Audience)
{
    public SymmetricSecurityKey SecurityKey => new(Encoding.UTF8.GetBytes(SigningKey));
}
