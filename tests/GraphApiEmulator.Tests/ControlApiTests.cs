using System.Net;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class ControlApiTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public async Task Health_answers_200()
    {
        using var response = await http.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Journal_can_be_read_incrementally_with_since()
    {
        var pnid = Ids.Next();
        await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "one"));
        var first = await http.JournalAsync(pnid);
        var lastSeq = first[^1]!["seq"]!.GetValue<long>();
        await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "two"));

        var later = (await http.ControlAsync(HttpMethod.Get, $"/__emu/requests?account={pnid}&since={lastSeq}"))["data"]!.AsArray();

        Assert.Equal("two", Assert.Single(later)!["body"]!["text"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Since_also_accepts_a_time_and_rejects_garbage()
    {
        var pnid = Ids.Next();
        await http.PostJsonAsync($"/v23.0/{pnid}/messages", GraphHttp.WhatsAppText("16505551234", "one"));
        var time = (await http.EffectsAsync(pnid))[0]!["time"]!.GetValue<string>();

        var fromTime = (await http.ControlAsync(HttpMethod.Get, $"/__emu/effects?account={pnid}&since={Uri.EscapeDataString(time)}"))["data"]!.AsArray();
        using var garbage = await http.GetAsync("/__emu/effects?since=yesterday-ish");

        Assert.Single(fromTime);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
    }

    [Fact]
    public async Task Account_settings_are_readable_back()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { quota_total = 7, processingDelayMs = 1234, dmWindowOpenFor = new[] { "r1" } });

        var snapshot = await http.ControlAsync(HttpMethod.Get, $"/__emu/accounts/{account}");

        Assert.Equal(7, snapshot["quota_total"]!.GetValue<int>());
        Assert.Equal(1234, snapshot["processing_delay_ms"]!.GetValue<int>());
        Assert.True(snapshot["dm_windows"]!["r1"]!["open"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Form_and_json_bodies_are_journaled_as_json()
    {
        var account = Ids.Next();
        await http.CreateImageContainerAsync(account, caption: "form caption");

        var entry = Assert.Single(await http.JournalAsync(account))!;

        Assert.Equal("form caption", entry["body"]!["caption"]!.GetValue<string>());
        Assert.Equal("ig_create_media", entry["operation"]!.GetValue<string>());
    }
}
