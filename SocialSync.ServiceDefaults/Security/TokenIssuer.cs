using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>Mints HS256 tokens: service credentials for internal calls, and development user tokens.</summary>
public sealed class TokenIssuer(AuthOptions options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public string CreateUserToken(Guid userId, TimeSpan lifetime) =>
        Create(new Dictionary<string, object> { [JwtRegisteredClaimNames.Sub] = userId.ToString() }, lifetime);

    public string CreateServiceToken(TimeSpan lifetime) =>
        Create(new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = options.ServiceName,
            [SocialSyncAuth.RoleClaim] = SocialSyncAuth.ServiceRole,
        }, lifetime);

    private string Create(Dictionary<string, object> claims, TimeSpan lifetime)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Issuer,
            Audience = options.Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(options.SecurityKey, SecurityAlgorithms.HmacSha256),
        });
    }
}
