using SocialSync.Identity.Cli;
using SocialSync.Testing;

namespace SocialSync.Gateway.Tests;

/// <summary>
/// The system a browser reaches (<see cref="GatewaySystem"/>), with a gateway that renews the session's access token
/// on every call, so renewal (and calls racing on it) is what each test exercises.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string Password = "correct horse battery staple";

    private GatewaySystem _system = null!;

    public ServiceProcess Identity => _system.Identity;

    public ServiceProcess Gateway => _system.Gateway;

    public Uri CallbackUri => _system.CallbackUri;

    public async Task InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(new Dictionary<string, string?> { ["Gateway__RefreshBefore"] = "00:59:00" });

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
        if (_system is not null)
        {
            await _system.DisposeAsync();
        }
    }
}
