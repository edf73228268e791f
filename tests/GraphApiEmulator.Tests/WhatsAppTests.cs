using System.Net;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class WhatsAppTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public async Task Text_message_is_accepted_and_shows_in_journal_and_effects()
    {
        var pnid = Ids.Next();
        var reply = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("+1 650-555-1234", "Hello from SocialSync"));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("whatsapp", reply.Json!["messaging_product"]!.GetValue<string>());
        Assert.Equal("+1 650-555-1234", reply.Json["contacts"]![0]!["input"]!.GetValue<string>());
        Assert.Equal("16505551234", reply.Json["contacts"]![0]!["wa_id"]!.GetValue<string>());
        var wamid = reply.Json["messages"]![0]!["id"]!.GetValue<string>();
        Assert.StartsWith("wamid.", wamid);

        var effect = Assert.Single(await http.EffectsAsync(pnid))!;
        Assert.Equal("whatsapp_message", effect["kind"]!.GetValue<string>());
        Assert.Equal(wamid, effect["wamid"]!.GetValue<string>());
        Assert.Equal(pnid, effect["phone_number_id"]!.GetValue<string>());
        Assert.Equal("text", effect["type"]!.GetValue<string>());
        Assert.Equal("Hello from SocialSync", effect["text"]!.GetValue<string>());

        var entry = Assert.Single(await http.JournalAsync(pnid))!;
        Assert.Equal("POST", entry["method"]!.GetValue<string>());
        Assert.Equal($"/v23.0/{pnid}/messages", entry["path"]!.GetValue<string>());
        Assert.Equal(200, entry["status"]!.GetValue<int>());
        Assert.Equal("Hello from SocialSync", entry["body"]!["text"]!["body"]!.GetValue<string>());
        Assert.Null(entry["dropped"]);
    }

    [Fact]
    public async Task Every_message_gets_a_unique_wamid()
    {
        var pnid = Ids.Next();
        var tasks = Enumerable.Range(0, 50).Select(i => http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText(Ids.Phone(), $"m{i}")));
        var replies = await Task.WhenAll(tasks);

        Assert.All(replies, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.Equal(50, replies.Select(r => r.Json!["messages"]![0]!["id"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(50, (await http.EffectsAsync(pnid)).Count);
    }

    [Fact]
    public async Task Caption_over_1024_characters_is_rejected_with_metas_error_envelope()
    {
        var pnid = Ids.Next();
        var reply = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new
        {
            messaging_product = "whatsapp",
            to = "16505551234",
            type = "image",
            image = new { link = "https://cdn.example.com/a.jpg", caption = new string('c', 1025) },
        });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal(100, reply.Code);
        Assert.Equal("OAuthException", reply.Error!["type"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(reply.Error["message"]!.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(reply.Error["fbtrace_id"]!.GetValue<string>()));
        Assert.Equal("whatsapp", reply.Error["error_data"]!["messaging_product"]!.GetValue<string>());
        Assert.Contains("image['caption']", reply.Error["error_data"]!["details"]!.GetValue<string>());
        Assert.Empty(await http.EffectsAsync(pnid));

        var ok = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new
        {
            messaging_product = "whatsapp",
            to = "16505551234",
            type = "image",
            image = new { link = "https://cdn.example.com/a.jpg", caption = new string('c', 1024) },
        });
        Assert.Equal(HttpStatusCode.OK, ok.Status);
        var effect = Assert.Single(await http.EffectsAsync(pnid))!;
        Assert.Equal("https://cdn.example.com/a.jpg", effect["link"]!.GetValue<string>());
        Assert.Equal(1024, effect["caption"]!.GetValue<string>().Length);
    }

    [Theory]
    [InlineData(4096, HttpStatusCode.OK)]
    [InlineData(4097, HttpStatusCode.BadRequest)]
    public async Task Text_body_is_limited_to_4096_characters(int length, HttpStatusCode expected)
    {
        var reply = await http.PostJsonAsync($"/v23.0/{Ids.Next()}/messages", GraphHttp.WhatsAppText("16505551234", new string('x', length)));

        Assert.Equal(expected, reply.Status);
        if (expected != HttpStatusCode.OK)
        {
            Assert.Equal(100, reply.Code);
        }
    }

    [Fact]
    public async Task Missing_required_fields_return_metas_codes()
    {
        var pnid = Ids.Next();
        var noProduct = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new { to = "16505551234", type = "text", text = new { body = "x" } });
        var noTo = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new { messaging_product = "whatsapp", type = "text", text = new { body = "x" } });
        var noBody = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new { messaging_product = "whatsapp", to = "16505551234", type = "text", text = new { } });
        var noLink = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new { messaging_product = "whatsapp", to = "16505551234", type = "video", video = new { caption = "x" } });
        var badType = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new { messaging_product = "whatsapp", to = "16505551234", type = "hologram" });

        Assert.Equal((HttpStatusCode.BadRequest, 100), (noProduct.Status, noProduct.Code));
        Assert.Equal((HttpStatusCode.BadRequest, 131008), (noTo.Status, noTo.Code));
        Assert.Equal((HttpStatusCode.BadRequest, 131008), (noBody.Status, noBody.Code));
        Assert.Equal((HttpStatusCode.BadRequest, 131008), (noLink.Status, noLink.Code));
        Assert.Equal((HttpStatusCode.BadRequest, 100), (badType.Status, badType.Code));
        Assert.Empty(await http.EffectsAsync(pnid));
    }

    [Fact]
    public async Task Document_and_template_messages_are_recorded_with_their_fields()
    {
        var pnid = Ids.Next();
        var document = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new
        {
            messaging_product = "whatsapp",
            to = "16505551234",
            type = "document",
            document = new { link = "https://cdn.example.com/a.pdf", caption = "Report", filename = "a.pdf" },
        });
        var template = await http.PostJsonAsync($"/v23.0/{pnid}/messages", new
        {
            messaging_product = "whatsapp",
            to = "16505551234",
            type = "template",
            template = new { name = "post_digest", language = new { code = "en_US" } },
        });

        Assert.Equal(HttpStatusCode.OK, document.Status);
        Assert.Equal(HttpStatusCode.OK, template.Status);
        Assert.Equal("accepted", template.Json!["messages"]![0]!["message_status"]!.GetValue<string>());
        var effects = await http.EffectsAsync(pnid);
        Assert.Equal(2, effects.Count);
        Assert.Equal("a.pdf", effects[0]!["filename"]!.GetValue<string>());
        Assert.Equal("Report", effects[0]!["caption"]!.GetValue<string>());
        Assert.Equal("post_digest", effects[1]!["template"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unversioned_path_and_access_token_parameter_are_accepted()
    {
        var pnid = Ids.Next();
        var reply = await http.PostJsonAsync($"/{pnid}/messages?access_token=abc", GraphHttp.WhatsAppText("16505551234", "hi"), token: null);

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.Equal("abc", Assert.Single(await http.JournalAsync(pnid))!["token"]!.GetValue<string>());
    }

    [Fact]
    public async Task Usage_headers_are_on_every_response()
    {
        var pnid = Ids.Next();
        var reply = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));

        var app = System.Text.Json.Nodes.JsonNode.Parse(reply.Header("X-App-Usage"))!;
        Assert.InRange(app["call_count"]!.GetValue<int>(), 0, 99);
        var buc = System.Text.Json.Nodes.JsonNode.Parse(reply.Header("X-Business-Use-Case-Usage"))!;
        Assert.Equal(0, buc[pnid]![0]!["estimated_time_to_regain_access"]!.GetValue<int>());

        await http.PutAccountAsync(pnid, new { usagePercent = 85 });
        var busy = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));
        Assert.Equal(85, System.Text.Json.Nodes.JsonNode.Parse(busy.Header("X-App-Usage"))!["call_count"]!.GetValue<int>());
        Assert.Equal(85, System.Text.Json.Nodes.JsonNode.Parse(busy.Header("X-Business-Use-Case-Usage"))![pnid]![0]!["call_count"]!.GetValue<int>());
    }
}
