using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// JWT settings shared by every service: HS256 with a key from configuration (as Supabase issues them).
/// User tokens carry the user id in <c>sub</c>; service tokens carry <c>role=service</c>.
/// </summary>
public sealed class AuthOptions
{
    public const string SectionName = "Auth";
    public const string DevelopmentSigningKey = "socialsync-development-signing-key-change-me-0123456789";

    /// <summary>No default: <see cref="SocialSyncAuth.GetAuthOptions(IConfiguration, IHostEnvironment)"/> requires it.</summary>
    public string SigningKey { get; set; } = "";
    public string Issuer { get; set; } = "socialsync";
    public string Audience { get; set; } = "socialsync";
    public string ServiceName { get; set; } = "socialsync-service";

    public SymmetricSecurityKey SecurityKey => new(Encoding.UTF8.GetBytes(SigningKey));
}

public static class SocialSyncAuth
{
    public const string RoleClaim = "role";
    public const string ServiceRole = "service";
    public const string UserPolicy = "user";
    public const string ServicePolicy = "service";

    public static AuthOptions GetAuthOptions(this IConfiguration configuration) =>
        configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();

    /// <summary>The JWT settings, with the signing key required as a secret (<see cref="SecretSettings"/>).</summary>
    public static AuthOptions GetAuthOptions(this IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetAuthOptions();
        options.SigningKey = SecretSettings.Require(configuration, environment, $"{AuthOptions.SectionName}:{nameof(AuthOptions.SigningKey)}",
            AuthOptions.DevelopmentSigningKey);
        return options;
    }

    public static IHostApplicationBuilder AddSocialSyncAuthentication(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetAuthOptions(builder.Environment);
        builder.Services.AddSingleton(options);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer(jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = options.Issuer,
                    ValidAudience = options.Audience,
                    IssuerSigningKey = options.SecurityKey,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    NameClaimType = JwtRegisteredClaimNames.Sub,
                    RoleClaimType = RoleClaim,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, p => p.RequireAuthenticatedUser()
                .RequireAssertion(ctx => ctx.User.FindFirst(RoleClaim)?.Value != ServiceRole
                    && Guid.TryParse(ctx.User.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out _)))
            .AddPolicy(ServicePolicy, p => p.RequireAuthenticatedUser().RequireClaim(RoleClaim, ServiceRole));
        return builder;
    }

    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirst(JwtRegisteredClaimNames.Sub)?.Value, out var id) ? id : null;
}
