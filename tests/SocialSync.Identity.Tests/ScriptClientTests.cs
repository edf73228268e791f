using System.Net;
using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Identity.Cli;

namespace SocialSync.Identity.Tests;

public sealed class ScriptClientTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>
{
    private static async Task<(string ClientId, string Secret)> CreateScriptClientAsync(IdentityBrowser browser)
    {
        var page = await browser.GetAsync("/account/script-clients");
        var created = await browser.SubmitAsync(page, new Dictionary<string, string> { ["name"] = "nightly import" }, "/account/script-clients");
        Assert.Equal(HttpStatusCode.Created, created.Status);
        return (created.ElementText("client-id")!, created.ElementText("client-secret")!);
    }

    private static Dictionary<string, string> ClientCredentials(string clientId, string secret) => new()
    {
        ["grant_type"] = "client_credentials",
        ["client_id"] = clientId,
        ["client_secret"] = secret,
    };

    [Fact]
    public async Task A_script_client_gets_tokens_that_act_as_the_user_who_created_it()
    {
        var (browser, email) = await fixture.SignedUpAsync();
        using (browser)
        {
            var (clientId, secret) = await CreateScriptClientAsync(browser);

            var tokens = await browser.RequestTokenAsync(ClientCredentials(clientId, secret));

            Assert.Null(tokens.Error);
            var validation = await fixture.ValidateAsync(tokens.AccessToken!);
            Assert.True(validation.IsValid, validation.Exception?.Message);
            var token = (JsonWebToken)validation.SecurityToken;
            Assert.Equal((await fixture.UserIdAsync(email)).ToString(), token.Subject);
            Assert.False(token.TryGetClaim("role", out _), "a script token never carries a role");
        }
    }

    [Fact]
    public async Task A_script_client_with_a_wrong_secret_or_deleted_gets_no_token()
    {
        var (browser, _) = await fixture.SignedUpAsync();
        using (browser)
        {
            var (clientId, secret) = await CreateScriptClientAsync(browser);

            var wrongSecret = await browser.RequestTokenAsync(ClientCredentials(clientId, secret + "x"));
            Assert.Equal("invalid_client", wrongSecret.Error);

            var listed = await browser.GetAsync("/account/script-clients");
            await browser.SubmitAsync(listed, new Dictionary<string, string> { ["clientId"] = clientId }, "/account/script-clients/delete");
            var deleted = await browser.RequestTokenAsync(ClientCredentials(clientId, secret));
            Assert.Equal("invalid_client", deleted.Error);
        }
    }

    [Fact]
    public async Task Script_clients_need_a_signed_in_user()
    {
        using var browser = fixture.Browser();
        var page = await browser.GetAsync("/account/script-clients");
        Assert.Equal("/account/signin", page.Address.AbsolutePath);
    }
}
