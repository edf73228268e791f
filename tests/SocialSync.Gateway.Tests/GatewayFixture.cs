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

    private readonly List<string> _folders = [];
    private GatewaySystem _system = null!;

    public ServiceProcess Identity => _system.Identity;

    public ServiceProcess Gateway => _system.Gateway;

    public Uri CallbackUri => _system.CallbackUri;

    /// <summary>The gateways' shared key ring (Gateway:KeyRingPath), as the AppHost gives its replicas one.</summary>
    public string KeyRing { get; } = Directory.CreateTempSubdirectory("socialsync-gateway-keys-").FullName;

    public async Task InitializeAsync() =>
        _system = await GatewaySystem.StartAsync(GatewaySettings(KeyRing));

    /// <summary>
    /// Another gateway in front of the same provider and PostsService, as a second replica on a machine of its own
    /// (a home folder of its own, where ASP.NET Core keeps a ring it is not told where to keep), with the key ring
    /// <paramref name="keyRing"/> (the fixture's <see cref="KeyRing"/> to share the first gateway's) or none.
    /// </summary>
    public async Task<ServiceProcess> AnotherGatewayAsync(string? keyRing)
    {
        var gateway = new ServiceProcess("gateway-replica", "SocialSync.Gateway", new Dictionary<string, string?>(GatewaySettings(keyRing))
        {
            ["Gateway__RequireHttps"] = "false",
            ["Gateway__Authority"] = Identity.HttpAddress.AbsoluteUri,
            ["services__posts-service__http__0"] = _system.Posts.HttpAddress.AbsoluteUri,
        });
        await gateway.StartAsync();
        return gateway;
    }

    /// <summary>An empty folder for a key ring, removed with the fixture.</summary>
    public string NewFolder()
    {
        _folders.Add(Directory.CreateTempSubdirectory("socialsync-gateway-").FullName);
        return _folders[^1];
    }

    private Dictionary<string, string?> GatewaySettings(string? keyRing) => new()
    {
        ["Gateway__RefreshBefore"] = "00:59:00",
        ["Gateway__KeyRingPath"] = keyRing,
        ["HOME"] = NewFolder(),
    };

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
        foreach (var folder in _folders.Append(KeyRing))
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
