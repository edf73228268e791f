using SocialSync.Identity.Cli;
using SocialSync.Testing;

namespace SocialSync.Gateway.Tests;

/// <summary>
/// The browser's path as the AppHost runs it: PostgreSQL, the identity provider (whose web client may return codes
/// to the gateway only), PostsService trusting the provider, and the gateway in front, each a real process.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    public PostgresServer Postgres { get; private set; } = null!;

    public ServiceProcess Identity { get; private set; } = null!;

    public ServiceProcess Posts { get; private set; } = null!;

    public ServiceProcess Gateway { get; private set; } = null!;

    public Uri CallbackUri => new(Gateway.HttpAddress, "/signin-oidc");

    public async Task InitializeAsync()
    {
        Postgres = await PostgresServer.StartAsync();
        try
        {
            // Made first (not started) so its port, and so its callback address, is known to the provider.
            Gateway = new ServiceProcess("gateway", "SocialSync.Gateway", new Dictionary<string, string?>
            {
                ["Gateway__RequireHttps"] = "false",
                // Every call renews the session's access token, so renewal (and calls racing on it) is what each test exercises.
                ["Gateway__RefreshBefore"] = "00:59:00",
            });
            Identity = await IdentityProcess.StartAsync(Postgres, new Dictionary<string, string?>
            {
                ["Identity__WebClient__RedirectUris__0"] = CallbackUri.AbsoluteUri,
                ["Identity__WebClient__PostLogoutRedirectUris__0"] = new Uri(Gateway.HttpAddress, "/signout-callback-oidc").AbsoluteUri,
            });
            Posts = new ServiceProcess("posts-service", "PostsService", new Dictionary<string, string?>
            {
                ["ConnectionStrings__postsdb"] = Postgres.ConnectionString(await Postgres.CreateDatabaseAsync()),
                ["Auth__Users__Authority"] = Identity.HttpAddress.AbsoluteUri,
                ["Auth__Users__RequireHttpsMetadata"] = "false",
            });
            await Posts.StartAsync();
            Gateway.SetEnvironment("Gateway__Authority", Identity.HttpAddress.AbsoluteUri);
            Gateway.SetEnvironment("services__posts-service__http__0", Posts.HttpAddress.AbsoluteUri);
            await Gateway.StartAsync();
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: stop the processes here, or they outlive the run.
            await DisposeAsync();
            throw;
        }
    }

    /// <summary>A new account signed up at the provider, and a browser at the gateway signed in with it.</summary>
    public async Task<GatewayBrowser> SignedInAsync()
    {
        var email = $"user-{Guid.NewGuid():N}@example.test";
        using var provider = new IdentityBrowser(Identity.HttpAddress);
        var page = await provider.GetAsync("/account/signup");
        var signedUp = await provider.SubmitAsync(page, new Dictionary<string, string> { ["email"] = email, ["password"] = Password });
        Assert.True(signedUp.Status == System.Net.HttpStatusCode.OK, $"sign-up: {(int)signedUp.Status} {signedUp.Error}");

        var browser = new GatewayBrowser(Gateway.HttpAddress, email);
        var toProvider = await browser.GetAsync("/bff/login?returnUrl=/calendar");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, toProvider.StatusCode);
        var authorize = toProvider.Headers.Location!;
        Assert.Equal(Identity.HttpAddress.Authority, authorize.Authority);
        var back = await provider.GetAsync(authorize.PathAndQuery);
        Assert.True(back.LeftTo is not null, $"the provider did not send the browser back: {(int)back.Status} {back.Error}");
        var signedIn = await browser.GetAsync(back.LeftTo!.PathAndQuery);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/calendar", signedIn.Headers.Location!.OriginalString);
        browser.SessionCookieHeaders = signedIn.Headers.TryGetValues("Set-Cookie", out var set)
            ? set.Where(c => c.StartsWith("socialsync.session", StringComparison.Ordinal)).ToList()
            : [];
        return browser;
    }

    public async Task DisposeAsync()
    {
        foreach (var process in new[] { Gateway, Posts, Identity })
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }
    }
}
