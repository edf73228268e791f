using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using OpenIddict.Server;
using SocialSync.Identity.Clients;
using SocialSync.Identity.Data;
using SocialSync.Identity.Endpoints;
using SocialSync.Identity.Keys;
using SocialSync.ServiceDefaults.Hosting;
using SocialSync.ServiceDefaults.Security;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SocialSync.Identity.Extensions;

public static class Extensions
{
    /// <summary>The connection name (the AppHost's resource): a database of this service's own, opened with its own role.</summary>
    public const string DatabaseName = "identitydb";

    public static void AddIdentityProvider(this WebApplicationBuilder builder)
    {
        builder.UseGrpcAndHttpEndpoints();
        builder.RequireDatabasePassword();
        var section = builder.Configuration.GetSection(IdentityProviderOptions.SectionName);
        builder.Services.Configure<IdentityProviderOptions>(section);
        var options = section.Get<IdentityProviderOptions>() ?? new IdentityProviderOptions();

        // No retrying strategy: the key ring and the script clients open their own transactions.
        builder.AddNpgsqlDbContext<IdentityDb>(DatabaseName, settings => settings.DisableRetry = true);
        // Cookies and antiforgery tokens stay valid across restarts and replicas: their keys live in identitydb too.
        builder.Services.AddDataProtection().SetApplicationName("socialsync-identity").PersistKeysToDbContext<IdentityDb>();

        builder.Services.AddIdentityCore<IdentityUser<Guid>>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.User.AllowedUserNameCharacters = ""; // the user name is the email, which the email rule checks
                // Length over composition rules (NIST SP 800-63B).
                identity.Password.RequiredLength = 10;
                identity.Password.RequireDigit = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Lockout.AllowedForNewUsers = true;
                identity.Lockout.MaxFailedAccessAttempts = options.MaxFailedSignIns;
                identity.Lockout.DefaultLockoutTimeSpan = options.LockoutDuration;
            })
            .AddSignInManager()
            .AddEntityFrameworkStores<IdentityDb>();
        builder.Services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "socialsync.identity";
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            cookie.LoginPath = AccountEndpoints.SignInPath;
            cookie.LogoutPath = AccountEndpoints.SignOutPath;
            cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
        });
        builder.Services.AddAuthorization();
        builder.Services.AddAntiforgery(antiforgery => antiforgery.Cookie.Name = "socialsync.antiforgery");

        builder.AddOpenIddictServer(options);
        builder.Services.AddScoped<ClientRegistrations>();
        builder.Services.AddScoped<ScriptClients>();
        builder.Services.AddHostedService<TokenPruning>();
        // The shared health endpoints (MapDefaultEndpoints) include the gRPC health service, which needs gRPC.
        builder.Services.AddGrpc();
    }

    private static void AddOpenIddictServer(this WebApplicationBuilder builder, IdentityProviderOptions options)
    {
        builder.Services.AddOpenIddict()
            .AddCore(core => core.UseEntityFrameworkCore().UseDbContext<IdentityDb>())
            .AddServer(server =>
            {
                if (options.Issuer is { } issuer)
                {
                    server.SetIssuer(issuer);
                }
                // Discovery (/.well-known/openid-configuration) and the JWKS (/.well-known/jwks) are on by default.
                server.SetAuthorizationEndpointUris(ConnectEndpoints.AuthorizePath)
                    .SetTokenEndpointUris(ConnectEndpoints.TokenPath)
                    .SetEndSessionEndpointUris(ConnectEndpoints.EndSessionPath);
                // PKCE with S256 only: "plain" would hand the verifier to whoever sees the authorize request.
                server.Configure(o => o.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
                server.AllowAuthorizationCodeFlow().RequireProofKeyForCodeExchange()
                    .AllowRefreshTokenFlow()
                    .AllowClientCredentialsFlow();
                server.RegisterScopes(Scopes.Email, Scopes.Profile, Scopes.OfflineAccess);
                server.SetAccessTokenLifetime(options.AccessTokenLifetime)
                    .SetRefreshTokenLifetime(options.RefreshTokenLifetime)
                    // Rotation: a refresh token works once; a second use is refused (and revokes its whole family).
                    .SetRefreshTokenReuseLeeway(TimeSpan.Zero);
                // Signed, not encrypted: PostsService (or any API) validates them with the JWKS alone.
                server.DisableAccessTokenEncryption();

                var aspNetCore = server.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough();
                if (!options.RequireHttps)
                {
                    aspNetCore.DisableTransportSecurityRequirement();
                }
            });

        // The keys come from identitydb (ServerKeyRing, loaded at start-up before the first request).
        builder.Services.AddSingleton<ServerKeyRing>();
        builder.Services.AddOptions<OpenIddictServerOptions>().Configure<ServerKeyRing>((server, keys) =>
        {
            foreach (var key in keys.SigningKeys)
            {
                server.SigningCredentials.Add(new SigningCredentials(key, SecurityAlgorithms.RsaSha256));
            }
            foreach (var key in keys.EncryptionKeys)
            {
                server.EncryptionCredentials.Add(new EncryptingCredentials(key, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
            }
        });
    }

    /// <summary>
    /// The database password is this service's one secret (its keys are generated into the database): outside
    /// Development it must be set, long enough and no value written in the repository (<see cref="SecretSettings"/>).
    /// </summary>
    private static void RequireDatabasePassword(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(DatabaseName);
        var password = string.IsNullOrEmpty(connectionString) ? null : new NpgsqlConnectionStringBuilder(connectionString).Password;
        SecretSettings.RequireOutsideDevelopment(builder.Environment, $"the Password of ConnectionStrings:{DatabaseName}", password);
    }

    /// <summary>Applies the EF Core migrations (EF Core holds a lock so replicas do not race), reads the keys, registers the built-in clients.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var cancellationToken = app.Lifetime.ApplicationStopping;
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityDb>();
        await db.Database.MigrateAsync(cancellationToken);
        await app.Services.GetRequiredService<ServerKeyRing>().LoadAsync(db, cancellationToken);
        await scope.ServiceProvider.GetRequiredService<ClientRegistrations>().SyncAsync(cancellationToken);
    }

    public static void MapIdentityEndpoints(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapAccountEndpoints();
        app.MapScriptClientEndpoints();
        app.MapConnectEndpoints();
        app.MapDefaultEndpoints();
    }
}
