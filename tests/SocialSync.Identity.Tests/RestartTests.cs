using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Identity.Cli;

namespace SocialSync.Identity.Tests;

/// <summary>Its own provider process, since it restarts it.</summary>
public sealed class RestartTests : IAsyncLifetime
{
    private readonly IdentityFixture _fixture = new();

    public Task InitializeAsync() => _fixture.InitializeAsync();

    public Task DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Tokens_issued_before_a_restart_still_verify_and_refresh_after_it()
    {
        var (browser, email) = await _fixture.SignedUpAsync();
        using (browser)
        {
            var pkce = IdentityBrowser.Pkce.Create();
            var code = await browser.AuthorizeAsync("socialsync-web", IdentityFixture.WebRedirectUri, pkce, email, IdentityFixture.Password);
            var before = await browser.RedeemCodeAsync("socialsync-web", IdentityFixture.WebRedirectUri, code, pkce.Verifier);

            await _fixture.Identity.StopAsync();
            await _fixture.Identity.StartAsync();

            var validation = await _fixture.ValidateAsync(before.AccessToken!);
            Assert.True(validation.IsValid, validation.Exception?.Message);
            Assert.Equal((await _fixture.UserIdAsync(email)).ToString(), ((JsonWebToken)validation.SecurityToken).Subject);
            // Refresh tokens are encrypted with the other persisted key: one issued before the restart still works.
            var refreshed = await browser.RequestTokenAsync(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["client_id"] = "socialsync-web",
                ["refresh_token"] = before.RefreshToken!,
            });
            Assert.Null(refreshed.Error);
        }
    }
}
