using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class FaultTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public async Task Fault_fires_exactly_times_then_requests_succeed()
    {
        var pnid = Ids.Next();
        var fault = await http.AddFaultAsync(new { match = new { account = pnid, method = "POST" }, code = 131000, times = 2 });
        var faultId = fault["id"]!.GetValue<string>();

        var first = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));
        var second = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));
        var third = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));

        Assert.Equal((HttpStatusCode.InternalServerError, 131000), (first.Status, first.Code));
        Assert.True(first.Error!["is_transient"]!.GetValue<bool>());
        Assert.Equal("whatsapp", first.Error["error_data"]!["messaging_product"]!.GetValue<string>());
        Assert.Equal((HttpStatusCode.InternalServerError, 131000), (second.Status, second.Code));
        Assert.Equal(HttpStatusCode.OK, third.Status);
        Assert.Single(await http.EffectsAsync(pnid));

        var journal = await http.JournalAsync(pnid);
        Assert.Equal([faultId, faultId, null], journal.Select(e => e!["fault_id"]?.GetValue<string>()));
        Assert.Equal([500, 500, 200], journal.Select(e => e!["status"]!.GetValue<int>()));
        var listed = (await http.ControlAsync(HttpMethod.Get, "/__emu/faults"))["data"]!.AsArray().Single(f => f!["id"]!.GetValue<string>() == faultId)!;
        Assert.Equal(0, listed["remaining"]!.GetValue<int>());
        Assert.Equal(2, listed["hits"]!.GetValue<int>());
    }

    [Fact]
    public async Task Rate_limit_preset_answers_429_with_usage_headers_at_100()
    {
        var pnid = Ids.Next();
        await http.AddFaultAsync(new
        {
            match = new { account = pnid },
            preset = "wa_throughput",
            retryAfterSeconds = 3,
            estimatedTimeToRegainAccessMinutes = 7,
        });

        var reply = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));

        Assert.Equal((HttpStatusCode.TooManyRequests, 130429), (reply.Status, reply.Code));
        Assert.Equal("3", reply.Header("Retry-After"));
        Assert.Equal(100, JsonNode.Parse(reply.Header("X-App-Usage"))!["call_count"]!.GetValue<int>());
        var buc = JsonNode.Parse(reply.Header("X-Business-Use-Case-Usage"))![pnid]![0]!;
        Assert.Equal(100, buc["call_count"]!.GetValue<int>());
        Assert.Equal(7, buc["estimated_time_to_regain_access"]!.GetValue<int>());
        Assert.Empty(await http.EffectsAsync(pnid));
    }

    [Theory]
    [InlineData(2, null, 503)]
    [InlineData(4, null, 429)]
    [InlineData(10, null, 403)]
    [InlineData(17, 2446079, 400)]
    [InlineData(190, 463, 400)]
    [InlineData(1, null, 400)]
    [InlineData(24, 2207008, 400)]
    public async Task Error_code_faults_use_metas_http_status_for_instagram(int code, int? subcode, int status)
    {
        var account = Ids.Next();
        await http.AddFaultAsync(new { match = new { account, pathRegex = "/media$" }, code, subcode });

        var reply = await http.PostJsonAsync($"/v23.0/{account}/media", new { image_url = "https://cdn.example.com/a.jpg" });

        Assert.Equal(status, (int)reply.Status);
        Assert.Equal((code, subcode), (reply.Code, reply.Subcode));
    }

    [Fact]
    public async Task Status_override_gives_code_1_as_a_500()
    {
        var account = Ids.Next();
        await http.AddFaultAsync(new { match = new { account }, code = 1, status = 500, isTransient = true });

        var reply = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit");

        Assert.Equal((HttpStatusCode.InternalServerError, 1), (reply.Status, reply.Code));
        Assert.True(reply.Error!["is_transient"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Commit_then_drop_on_whatsapp_records_exactly_one_message_but_gives_no_response()
    {
        var pnid = Ids.Next();
        await http.AddFaultAsync(new { match = new { account = pnid }, drop = "after_commit" });

        await Assert.ThrowsAnyAsync<HttpRequestException>(() =>
            http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "maybe sent")));

        var effect = Assert.Single(await http.EffectsAsync(pnid))!;
        Assert.Equal("maybe sent", effect["text"]!.GetValue<string>());
        var journal = await GraphHttp.EventuallyAsync(() => http.JournalAsync(pnid), j => j.Count == 1);
        Assert.Equal("after_commit", Assert.Single(journal)!["dropped"]!.GetValue<string>());

        // The fault fired once: the next send is answered normally.
        Assert.Equal(HttpStatusCode.OK, (await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "next"))).Status);
        Assert.Equal(2, (await http.EffectsAsync(pnid)).Count);
    }

    [Fact]
    public async Task Commit_then_drop_on_media_publish_publishes_once_and_the_container_shows_published()
    {
        var account = Ids.Next();
        var container = await http.CreateImageContainerAsync(account);
        await http.AddFaultAsync(new { match = new { account, pathRegex = "media_publish" }, drop = "after_commit" });

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PublishAsync(account, container));

        var effect = Assert.Single(await http.EffectsAsync(account))!;
        Assert.Equal(container, effect["container_id"]!.GetValue<string>());
        Assert.Equal("PUBLISHED", await http.StatusCodeAsync(container));
        var limit = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit");
        Assert.Equal(1, limit.Json!["data"]![0]!["quota_usage"]!.GetValue<int>());

        // A blind retry is refused (default: 400 code 100) and publishes nothing more.
        var retry = await http.PublishAsync(account, container);
        Assert.Equal((HttpStatusCode.BadRequest, 100), (retry.Status, retry.Code));

        // Configurable: answer with the original media id instead.
        await http.PutAccountAsync(account, new { republishReturnsSameId = true });
        var same = await http.PublishAsync(account, container);
        Assert.Equal(effect["media_id"]!.GetValue<string>(), same.Json!["id"]!.GetValue<string>());
        Assert.Single(await http.EffectsAsync(account));
    }

    [Fact]
    public async Task Drop_before_applies_nothing()
    {
        var pnid = Ids.Next();
        await http.AddFaultAsync(new { match = new { account = pnid }, drop = "before" });

        await Assert.ThrowsAnyAsync<HttpRequestException>(() =>
            http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "never sent")));

        Assert.Empty(await http.EffectsAsync(pnid));
        var journal = await GraphHttp.EventuallyAsync(() => http.JournalAsync(pnid), j => j.Count == 1);
        Assert.Equal("before", Assert.Single(journal)!["dropped"]!.GetValue<string>());
    }

    [Fact]
    public async Task Recipient_fault_only_hits_that_recipient()
    {
        var pnid = Ids.Next();
        await http.AddFaultAsync(new { match = new { account = pnid, recipient = "+1 650 555 0000" }, preset = "wa_pair_rate_limit", times = 0 });

        var hit = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505550000", "a"));
        var other = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551111", "b"));
        var hitAgain = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505550000", "c"));

        Assert.Equal((HttpStatusCode.TooManyRequests, 131056), (hit.Status, hit.Code));
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Equal(131056, hitAgain.Code);
        Assert.Equal("16505551111", Assert.Single(await http.EffectsAsync(pnid))!["wa_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Raw_response_fault_returns_a_non_json_502()
    {
        var account = Ids.Next();
        await http.AddFaultAsync(new
        {
            match = new { account },
            response = new { status = 502, body = "<html>Bad Gateway</html>", headers = new Dictionary<string, string> { ["Content-Type"] = "text/html" } },
        });

        var reply = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit");

        Assert.Equal(HttpStatusCode.BadGateway, reply.Status);
        Assert.Equal("<html>Bad Gateway</html>", reply.Text);
        Assert.Null(reply.Json);
    }

    [Fact]
    public async Task Delay_fault_slows_the_response_after_applying_it()
    {
        var pnid = Ids.Next();
        await http.AddFaultAsync(new { match = new { account = pnid }, delayMs = 300 });

        var watch = Stopwatch.StartNew();
        var reply = await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "slow"));

        Assert.Equal(HttpStatusCode.OK, reply.Status);
        Assert.True(watch.ElapsedMilliseconds >= 280, $"took {watch.ElapsedMilliseconds} ms");
        Assert.Single(await http.EffectsAsync(pnid));
    }

    [Fact]
    public async Task Meta_incident_mode_fails_reads_with_100_33_then_recovers()
    {
        var account = Ids.Next();
        var container = await http.CreateImageContainerAsync(account);
        await http.AddFaultAsync(new { match = new { method = "GET", pathRegex = $"/{container}$" }, preset = "object_not_found", times = 2 });

        Assert.Equal(33, (await http.GetGraphAsync($"/v23.0/{container}?fields=status_code")).Subcode);
        Assert.Equal(33, (await http.GetGraphAsync($"/v23.0/{container}?fields=status_code")).Subcode);
        Assert.Equal("FINISHED", await http.StatusCodeAsync(container));
    }

    [Fact]
    public async Task Invalid_fault_definitions_are_rejected()
    {
        using var unknownPreset = await http.PostAsync("/__emu/faults", System.Net.Http.Json.JsonContent.Create(new { preset = "no_such_thing" }));
        using var nothing = await http.PostAsync("/__emu/faults", System.Net.Http.Json.JsonContent.Create(new { match = new { account = "1" } }));
        using var badDrop = await http.PostAsync("/__emu/faults", System.Net.Http.Json.JsonContent.Create(new { drop = "sideways" }));

        Assert.Equal(HttpStatusCode.BadRequest, unknownPreset.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, nothing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badDrop.StatusCode);
    }
}
