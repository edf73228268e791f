using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// Bearer tokens, told apart by who may sign them (docs/security.md):
/// <list type="bullet">
/// <item><see cref="ServicesScheme"/>: service-to-service tokens, HS256 with <c>Auth:Services:SigningKey</c>, which only
/// PostsService, SchedulerService and PublisherService hold, and an issuer and audience of their own.</item>
/// <item><see cref="UsersOidcScheme"/>: user access tokens of the OIDC issuer <c>Auth:Users:Authority</c> (RS256, ES256 and
/// the other asymmetric algorithms, keys from its JWKS).</item>
/// <item><see cref="UsersSharedKeyScheme"/>: user tokens signed HS256 with <c>Auth:Users:SigningKey</c>, only when it is set.</item>
/// </list>
/// Only a principal of the service scheme passes <see cref="ServicePolicy"/>; a user token that claims
/// <c>role=service</c> is refused at validation, whoever signed it.
/// </summary>
public static class SocialSyncAuth
{
    public const string RoleClaim = "role";
    public const string ServiceRole = "service";
    public const string UserPolicy = "user";
    public const string ServicePolicy = "service";

    public const string ServicesScheme = "services";
    public const string UsersOidcScheme = "users-oidc";
    public const string UsersSharedKeyScheme = "users-hs256";

    /// <summary>PostsService's default scheme: forwards each request to the scheme its token is for.</summary>
    public const string BearerScheme = JwtBearerDefaults.AuthenticationScheme;

    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    /// <summary>
    /// Service tokens on every service; with <paramref name="acceptUserTokens"/> (PostsService, the public API) user
    /// tokens too. Outside Development a missing or refused key stops the service with one line (<see cref="SecretSettings"/>).
    /// </summary>
    public static IHostApplicationBuilder AddSocialSyncAuthentication(this IHostApplicationBuilder builder, bool acceptUserTokens = false)
    {
        var serviceTokens = builder.Configuration.GetServiceTokenOptions(builder.Environment);
        builder.Services.AddSingleton(serviceTokens);
        var authentication = builder.Services
            .AddAuthentication(acceptUserTokens ? BearerScheme : ServicesScheme)
            .AddJwtBearer(ServicesScheme, jwt => jwt.Validate(ServicesScheme, serviceTokens.Signing));

        if (acceptUserTokens)
        {
            var userTokens = builder.Configuration.GetUserTokenOptions(builder.Environment, serviceTokens);
            builder.Services.AddSingleton(userTokens);
            authentication.AddUserSchemes(userTokens, serviceTokens);
        }

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, p => p.RequireAuthenticatedUser().RequireAssertion(ctx => IsUser(ctx.User)))
            .AddPolicy(ServicePolicy, p => p.RequireAuthenticatedUser().RequireAssertion(ctx => IsService(ctx.User)));
        return builder;
    }

    public static ServiceTokenOptions GetServiceTokenOptions(this IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetSection(ServiceTokenOptions.SectionName).Get<ServiceTokenOptions>() ?? new ServiceTokenOptions();
        options.SigningKey = SecretSettings.Require(configuration, environment, ServiceTokenOptions.SigningKeySetting,
            ServiceTokenOptions.DevelopmentSigningKey);
        return options;
    }

    /// <summary>
    /// The user-token settings. Outside Development an OIDC issuer or an HS256 key is required, a key is checked as a
    /// secret and must differ from the service key; in Development with neither set the development key signs user tokens.
    /// </summary>
    public static UserTokenOptions GetUserTokenOptions(this IConfiguration configuration, IHostEnvironment environment,
        ServiceTokenOptions serviceTokens)
    {
        var options = configuration.GetSection(UserTokenOptions.SectionName).Get<UserTokenOptions>() ?? new UserTokenOptions();
        if (environment.IsDevelopment())
        {
            if (!options.HasAuthority && !options.HasSigningKey)
            {
                options.SigningKey = UserTokenOptions.DevelopmentSigningKey;
            }
            return options;
        }
        if (UserTokenRefusal(options, serviceTokens) is { } refusal)
        {
            SecretSettings.RefuseToStart(environment, refusal);
        }
        return options;
    }

    private static string? UserTokenRefusal(UserTokenOptions options, ServiceTokenOptions serviceTokens)
    {
        if (!options.HasAuthority && !options.HasSigningKey)
        {
            return $"neither {UserTokenOptions.AuthoritySetting} nor {UserTokenOptions.SigningKeySetting} is set: give the OIDC issuer of user tokens (or an HS256 key of at least {SecretSettings.MinimumLength} characters).";
        }
        if (options.HasAuthority && options.RequireHttpsMetadata
            && !options.Authority!.StartsWith(Uri.UriSchemeHttps + "://", StringComparison.OrdinalIgnoreCase))
        {
            return $"{UserTokenOptions.AuthoritySetting} is not an https URL: its keys could be changed on the way (set Auth:Users:RequireHttpsMetadata=false only for an issuer on loopback).";
        }
        if (!options.HasSigningKey)
        {
            return null;
        }
        if (options.SigningKey == serviceTokens.SigningKey)
        {
            return $"{UserTokenOptions.SigningKeySetting} equals {ServiceTokenOptions.SigningKeySetting}: whoever signs user tokens could sign service tokens; give each its own key.";
        }
        return SecretSettings.Refusal(UserTokenOptions.SigningKeySetting, options.SigningKey);
    }

    private static void AddUserSchemes(this AuthenticationBuilder authentication, UserTokenOptions users, ServiceTokenOptions services)
    {
        if (users.HasAuthority)
        {
            authentication.AddJwtBearer(UsersOidcScheme, jwt =>
            {
                jwt.Validate(UsersOidcScheme, issuer: null, users.Audience, AsymmetricAlgorithms, users.UserIdClaim);
                jwt.RefuseServiceRole();
            });
            // Issuer and keys come from the discovery document through our own configuration manager (why: OidcSigningKeys).
            authentication.Services.AddHttpClient(OidcSigningKeys.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(10));
            authentication.Services.AddSingleton<OidcSigningKeys>();
            authentication.Services.AddOptions<JwtBearerOptions>(UsersOidcScheme)
                .Configure<OidcSigningKeys>((jwt, keys) => jwt.ConfigurationManager = keys);
        }
        if (users.HasSigningKey)
        {
            authentication.AddJwtBearer(UsersSharedKeyScheme, jwt =>
            {
                jwt.Validate(UsersSharedKeyScheme, users.Signing);
                jwt.RefuseServiceRole();
            });
        }
        authentication.AddPolicyScheme(BearerScheme, "user or service token", policy =>
            policy.ForwardDefaultSelector = context => SchemeFor(BearerToken(context.Request), users, services));
    }

    /// <summary>
    /// Which scheme validates <paramref name="token"/>. The token is only read here, not trusted: the chosen scheme
    /// validates all of it, so a token that names the wrong issuer or algorithm is simply refused there.
    /// </summary>
    private static string SchemeFor(string? token, UserTokenOptions users, ServiceTokenOptions services)
    {
        var userDefault = users.HasAuthority ? UsersOidcScheme : UsersSharedKeyScheme;
        if (Read(token) is not { } jwt)
        {
            return userDefault;
        }
        if (jwt.Issuer == services.Issuer)
        {
            return ServicesScheme;
        }
        var symmetric = jwt.Alg.StartsWith("HS", StringComparison.Ordinal);
        return symmetric && users.HasSigningKey ? UsersSharedKeyScheme : userDefault;
    }

    private static JsonWebToken? Read(string? token)
    {
        try
        {
            var jwt = token is null ? null : new JsonWebToken(token);
            _ = jwt?.Alg;
            _ = jwt?.Issuer;
            return jwt;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? BearerToken(HttpRequest request)
    {
        const string prefix = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) ? header[prefix.Length..].Trim() : null;
    }

    private static void Validate(this JwtBearerOptions jwt, string scheme, TokenSigning signing)
    {
        jwt.Validate(scheme, signing.Issuer, signing.Audience, [SecurityAlgorithms.HmacSha256], JwtRegisteredClaimNames.Sub);
        jwt.TokenValidationParameters.IssuerSigningKey = signing.SecurityKey;
    }

    private static void Validate(this JwtBearerOptions jwt, string scheme, string? issuer, string audience, string[] algorithms, string nameClaim)
    {
        jwt.MapInboundClaims = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            // The scheme's name becomes the identity's authentication type: the policies read it, not a claim.
            AuthenticationType = scheme,
            ValidIssuer = issuer,
            ValidAudience = audience,
            ValidAlgorithms = algorithms,
            NameClaimType = nameClaim,
            RoleClaimType = RoleClaim,
            ClockSkew = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>A user token is never a service's, whoever signed it: one that claims the service role is refused.</summary>
    private static void RefuseServiceRole(this JwtBearerOptions jwt) =>
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                if (context.Principal is { } principal && ClaimsServiceRole(principal))
                {
                    context.Fail("A user token cannot claim the service role.");
                }
                return Task.CompletedTask;
            },
        };

    private static bool ClaimsServiceRole(ClaimsPrincipal principal) =>
        principal.HasClaim(c => c.Type is RoleClaim or "roles" && string.Equals(c.Value, ServiceRole, StringComparison.OrdinalIgnoreCase));

    private static bool AuthenticatedBy(ClaimsPrincipal principal, params string[] schemes) =>
        principal.Identities.Any(i => i.IsAuthenticated && schemes.Contains(i.AuthenticationType));

    private static bool IsUser(ClaimsPrincipal principal) =>
        AuthenticatedBy(principal, UsersOidcScheme, UsersSharedKeyScheme) && !ClaimsServiceRole(principal) && principal.GetUserId() is not null;

    private static bool IsService(ClaimsPrincipal principal) =>
        AuthenticatedBy(principal, ServicesScheme) && principal.HasClaim(RoleClaim, ServiceRole);

    /// <summary>The user's id: the claim <c>Auth:Users:UserIdClaim</c> names (<c>sub</c> unless set), a UUID.</summary>
    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.Identity?.Name, out var id) ? id : null;
}
