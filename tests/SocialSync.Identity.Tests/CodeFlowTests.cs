using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Identity.Cli;

namespace SocialSync.Identity.Tests;

/// <summary>The web app's sign-in, driven over HTTP as a browser would: authorize, sign-in page, redirect with the code, token request.</summary>
public sealed class CodeFlowTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>
{
    private const string WebClient = "socialsync-web";

    private async Task<(IdentityBrowser Browser, string Email, IdentityBrowser.Pkce Pkce, string Code)> CodeAsync()
    {
        var (browser, email) = await fixture.SignedUpAsync();
        var pkce = IdentityBrowser.Pkce.Create();
        var code = await browser.AuthorizeAsync(WebClient, IdentityFixture.WebRedirectUri, pkce, email, IdentityFixture.Password);
        return (browser, email, pkce, code);
    }

    [Fact]
    public async Task The_code_flow_with_PKCE_yields_an_RS256_access_token_that_verifies_against_the_JWKS_with_issuer_audience_and_the_user_as_sub()
    {
        // Signed out first: the authorize step sends the browser through the sign-in page and back.
        using var browser = fixture.Browser();
        var email = IdentityFixture.NewEmail();
        var pkce = IdentityBrowser.Pkce.Create();
        var code = await browser.AuthorizeAsync(WebClient, IdentityFixture.WebRedirectUri, pkce, email, IdentityFixture.Password, signUpIfUnknown: true);

        var tokens = await browser.RedeemCodeAsync(WebClient, IdentityFixture.WebRedirectUri, code, pkce.Verifier);

        Assert.Null(tokens.Error);
        Assert.Equal("Bearer", tokens.TokenType);
        Assert.NotNull(tokens.RefreshToken);
        Assert.NotNull(tokens.IdentityToken);
        var validation = await fixture.ValidateAsync(tokens.AccessToken!);
        Assert.True(validation.IsValid, validation.Exception?.Message);
        var token = (JsonWebToken)validation.SecurityToken;
        Assert.Equal("RS256", token.Alg);
        Assert.Equal(fixture.Issuer.AbsoluteUri, token.Issuer);
        Assert.Equal([IdentityFixture.Audience], token.Audiences);
        Assert.Equal((await fixture.UserIdAsync(email)).ToString(), token.Subject);
        Assert.False(token.TryGetClaim("role", out _), "an access token of the identity provider never carries a role");
        Assert.InRange(token.ValidTo - token.IssuedAt, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_code_is_refused_with_another_verifier_or_without_one()
    {
        var (browser, _, _, code) = await CodeAsync();
        using (browser)
        {
            var otherVerifier = await browser.RedeemCodeAsync(WebClient, IdentityFixture.WebRedirectUri, code, IdentityBrowser.Pkce.Create().Verifier);
            Assert.Equal("invalid_grant", otherVerifier.Error);
            Assert.Null(otherVerifier.AccessToken);
        }

        var (second, _, _, secondCode) = await CodeAsync();
        using (second)
        {
            var noVerifier = await second.RequestTokenAsync(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["client_id"] = WebClient,
                ["redirect_uri"] = IdentityFixture.WebRedirectUri.AbsoluteUri,
                ["code"] = secondCode,
            });
            Assert.NotNull(noVerifier.Error);
            Assert.Null(noVerifier.AccessToken);
        }
    }

    [Fact]
    public async Task An_authorize_request_without_a_code_challenge_is_refused()
    {
        var (browser, _) = await fixture.SignedUpAsync();
        using (browser)
        {
            var page = await browser.GetAsync($"/connect/authorize?client_id={WebClient}&response_type=code&scope=openid"
                + $"&redirect_uri={Uri.EscapeDataString(IdentityFixture.WebRedirectUri.AbsoluteUri)}&state=s");

            // Refused on the spot (the provider answers the browser itself), no code handed to the client.
            Assert.Null(page.LeftTo);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, page.Status);
            Assert.Contains("error:invalid_request", page.Html, StringComparison.Ordinal);
            Assert.Contains("code_challenge", page.Html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_refresh_token_gives_new_tokens_once_and_is_refused_after_its_rotation()
    {
        var (browser, email, pkce, code) = await CodeAsync();
        using (browser)
        {
            var first = await browser.RedeemCodeAsync(WebClient, IdentityFixture.WebRedirectUri, code, pkce.Verifier);
            Dictionary<string, string> Refresh(string refreshToken) => new()
            {
                ["grant_type"] = "refresh_token",
                ["client_id"] = WebClient,
                ["refresh_token"] = refreshToken,
            };

            var refreshed = await browser.RequestTokenAsync(Refresh(first.RefreshToken!));
            Assert.Null(refreshed.Error);
            Assert.NotEqual(first.RefreshToken, refreshed.RefreshToken);
            var validation = await fixture.ValidateAsync(refreshed.AccessToken!);
            Assert.True(validation.IsValid, validation.Exception?.Message);
            Assert.Equal((await fixture.UserIdAsync(email)).ToString(), ((JsonWebToken)validation.SecurityToken).Subject);

            var reused = await browser.RequestTokenAsync(Refresh(first.RefreshToken!));
            Assert.Equal("invalid_grant", reused.Error);
            Assert.Null(reused.AccessToken);
        }
    }
}
