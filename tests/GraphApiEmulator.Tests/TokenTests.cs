using System.Net;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class TokenTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public async Task Expired_token_returns_190_463_with_401_for_whatsapp_and_400_for_instagram()
    {
        var pnid = Ids.Next();
        var igUser = Ids.Next();
        await http.PutAccountAsync(pnid, new { expiredTokens = new[] { "old-token" } });
        await http.PutAccountAsync(igUser, new { expiredTokens = new[] { "old-token" } });

        var wa = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"), "old-token");
        var ig = await http.PostJsonAsync($"/v23.0/{igUser}/media", new { image_url = "https://cdn.example.com/a.jpg" }, "old-token");

        Assert.Equal((HttpStatusCode.Unauthorized, 190, 463), (wa.Status, wa.Code, wa.Subcode));
        Assert.Equal((HttpStatusCode.BadRequest, 190, 463), (ig.Status, ig.Code, ig.Subcode));
        Assert.Equal("OAuthException", ig.Error!["type"]!.GetValue<string>());
        Assert.Empty(await http.EffectsAsync(pnid));

        var fresh = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"), "new-token");
        Assert.Equal(HttpStatusCode.OK, fresh.Status);
    }

    [Fact]
    public async Task Account_token_error_applies_to_every_token_until_cleared()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { tokenError = new { code = 190, subcode = 460 } });
        var changed = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit", "any-token");
        Assert.Equal((190, 460), (changed.Code, changed.Subcode));

        await http.PutAccountAsync(account, new { tokenError = new { code = 190 } });
        var malformed = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit", "any-token");
        Assert.Equal(190, malformed.Code);
        Assert.Null(malformed.Subcode);

        await http.PutAccountAsync(account, new { tokenError = (object?)null });
        Assert.Equal(HttpStatusCode.OK, (await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit", "any-token")).Status);
    }

    [Fact]
    public async Task Token_error_also_covers_the_accounts_containers()
    {
        var account = Ids.Next();
        var container = await http.CreateImageContainerAsync(account);
        await http.PutAccountAsync(account, new { expiredTokens = new[] { GraphHttp.Token } });

        var reply = await http.GetGraphAsync($"/v23.0/{container}?fields=status_code");

        Assert.Equal((190, 463), (reply.Code, reply.Subcode));
    }

    [Fact]
    public async Task Missing_token_is_rejected()
    {
        var reply = await http.PostJsonAsync($"/v23.0/{Ids.Next()}/messages", GraphHttp.WhatsAppText("16505551234", "hi"), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.NotNull(reply.Code);
    }
}
