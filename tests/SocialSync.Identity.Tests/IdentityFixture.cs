using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using SocialSync.Identity.Cli;
using SocialSync.Testing;

namespace SocialSync.Identity.Tests;

/// <summary>
/// A real PostgreSQL with identitydb and its own role (provisioned as the AppHost does), and SocialSync.Identity as a
/// process in Production, on loopback http, with the web client's redirect URI configured.
/// </summary>
public sealed class IdentityFixture : IAsyncLifetime
{
    public const string Database = IdentityProcess.Database;
    public const string Role = IdentityProcess.Role;
    public const string Audience = "socialsync-api";
    public const int MaxFailedSignIns = 3;
    public static readonly Uri WebRedirectUri = new("http://127.0.0.1:9/signin-oidc");

    public PostgresServer Postgres { get; private set; } = null!;

    public ServiceProcess Identity { get; private set; } = null!;

    public Uri Issuer => Identity.HttpAddress;

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        try
        {
            Identity = await IdentityProcess.StartAsync(Postgres, new Dictionary<string, string?>
            {
                ["Identity__MaxFailedSignIns"] = MaxFailedSignIns.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Identity__WebClient__RedirectUris__0"] = WebRedirectUri.AbsoluteUri,
            });
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: stop PostgreSQL here, or it outlives the run.
            await DisposeAsync();
            throw;
        }
    }

    public IdentityBrowser Browser() => new(Issuer);

    public static string NewEmail() => $"user-{Guid.NewGuid():N}@example.test";

    public const string Password = "correct horse battery staple";

    /// <summary>The id ASP.NET Core Identity gave the account of <paramref name="email"/>, read from identitydb.</summary>
    public async Task<Guid> UserIdAsync(string email)
    {
        await using var connection = new NpgsqlConnection(Postgres.ConnectionString(Database));
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""select "Id" from "AspNetUsers" where "NormalizedEmail" = upper(@email)""", connection);
        query.Parameters.AddWithValue("email", email);
        return (Guid)(await query.ExecuteScalarAsync() ?? throw new InvalidOperationException($"No account for {email}."));
    }

    public async Task<JsonDocument> DiscoveryAsync()
    {
        using var http = new HttpClient();
        return JsonDocument.Parse(await http.GetStringAsync(new Uri(Issuer, ".well-known/openid-configuration")));
    }

    /// <summary>Validates <paramref name="token"/> as PostsService would: signature against the JWKS the discovery document names, issuer, audience, RS256 only.</summary>
    public async Task<TokenValidationResult> ValidateAsync(string token)
    {
        using var discovery = await DiscoveryAsync();
        using var http = new HttpClient();
        var jwks = new JsonWebKeySet(await http.GetStringAsync(discovery.RootElement.GetProperty("jwks_uri").GetString()));
        return await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = discovery.RootElement.GetProperty("issuer").GetString(),
            ValidAudience = Audience,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        });
    }

    /// <summary>A new account, signed up through the sign-up page; the browser stays signed in.</summary>
    public async Task<(IdentityBrowser Browser, string Email)> SignedUpAsync()
    {
        var browser = Browser();
        var email = NewEmail();
        var page = await browser.GetAsync("/account/signup");
        var signedUp = await browser.SubmitAsync(page, new Dictionary<string, string> { ["email"] = email, ["password"] = Password });
        Assert.True(signedUp.Status == System.Net.HttpStatusCode.OK && signedUp.Html.Contains(email, StringComparison.Ordinal),
            $"sign-up: {(int)signedUp.Status} {signedUp.Error}");
        return (browser, email);
    }

    public async Task DisposeAsync()
    {
        if (Identity is not null)
        {
            await Identity.DisposeAsync();
        }
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
