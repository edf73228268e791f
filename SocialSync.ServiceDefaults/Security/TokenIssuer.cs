using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// Mints HS256 tokens with one <see cref="TokenSigning"/>: service credentials for internal calls (with the service
/// key), and development user tokens (with the user key, for <c>./build.sh token</c>).
/// </summary>
public sealed class TokenIssuer(TokenSigning signing, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public string CreateUserToken(Guid userId, TimeSpan lifetime) =>
        Create(new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = userId.ToString() }, lifetime);

    public string CreateServiceToken(string serviceName, TimeSpan lifetime) =>
        Create(new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = serviceName,
            [SocialSyncAuth.RoleClaim] = SocialSyncAuth.ServiceRole,
        }, lifetime);

    public string Create(IDictionary<string, object> claims, TimeSpan lifetime)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = signing.Issuer,
            Audience = signing.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(signing.SecurityKey, SecurityAlgorithms.HmacSha256),
        });
    }
}
