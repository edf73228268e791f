using System.Net;

namespace SocialSync.GraphApiEmulator.Tests;

/// <summary>Tests that move the virtual clock get a fresh emulator each (xunit makes a new instance per test).</summary>
public sealed class ClockDependentTests : IAsyncLifetime
{
    private readonly EmulatorFixture emulator = new();

    private HttpClient http => emulator.Http;

    public Task InitializeAsync() => emulator.InitializeAsync();

    public Task DisposeAsync() => emulator.DisposeAsync();

    [Fact]
    public async Task Publishing_beyond_the_quota_fails_with_9_2207042_and_the_limit_endpoint_agrees()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { quotaTotal = 3 });
        for (var i = 0; i < 3; i++)
        {
            var published = await http.PublishAsync(account, await http.CreateImageContainerAsync(account, $"post {i}"));
            Assert.Equal(HttpStatusCode.OK, published.Status);
        }

        var limit = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit?fields=quota_usage,config");
        var data = limit.Json!["data"]![0]!;
        Assert.Equal(3, data["quota_usage"]!.GetValue<int>());
        Assert.Equal(3, data["config"]!["quota_total"]!.GetValue<int>());
        Assert.Equal(86400, data["config"]!["quota_duration"]!.GetValue<int>());

        var over = await http.PublishAsync(account, await http.CreateImageContainerAsync(account, "one too many"));
        Assert.Equal(HttpStatusCode.BadRequest, over.Status);
        Assert.Equal((9, 2207042), (over.Code, over.Subcode));
        Assert.Equal(3, (await http.EffectsAsync(account)).Count);

        await http.AdvanceClockAsync(TimeSpan.FromHours(24).TotalSeconds + 1);
        var after = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit?fields=quota_usage");
        Assert.Equal(0, after.Json!["data"]![0]!["quota_usage"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, (await http.PublishAsync(account, await http.CreateImageContainerAsync(account, "next day"))).Status);
    }

    [Fact]
    public async Task Default_quota_is_50()
    {
        var limit = await http.GetGraphAsync($"/v23.0/{Ids.Next()}/content_publishing_limit?fields=config,quota_usage");

        Assert.Equal(50, limit.Json!["data"]![0]!["config"]!["quota_total"]!.GetValue<int>());
        Assert.Equal(0, limit.Json["data"]![0]!["quota_usage"]!.GetValue<int>());
    }

    [Fact]
    public async Task Unpublished_container_expires_after_24_hours()
    {
        var account = Ids.Next();
        var container = await http.CreateImageContainerAsync(account);
        await http.AdvanceClockAsync(TimeSpan.FromHours(24).TotalSeconds);

        Assert.Equal("EXPIRED", await http.StatusCodeAsync(container));
        var reply = await http.PublishAsync(account, container);
        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal((-2, 2207020), (reply.Code, reply.Subcode));
        Assert.Empty(await http.EffectsAsync(account));
    }

    [Fact]
    public async Task Advancing_the_clock_finishes_video_processing()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { processingDelayMs = 600_000 });
        var created = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "REELS", video_url = "https://cdn.example.com/r.mp4" });
        var id = created.Json!["id"]!.GetValue<string>();
        Assert.Equal("IN_PROGRESS", await http.StatusCodeAsync(id));

        await http.AdvanceClockAsync(600);

        Assert.Equal("FINISHED", await http.StatusCodeAsync(id));
    }

    [Fact]
    public async Task Instagram_dm_needs_an_open_24_hour_window()
    {
        var account = Ids.Next();
        var recipient = Ids.Next();
        var dm = new { recipient = new { id = recipient }, message = new { text = "Thanks for writing!" } };

        var closed = await http.PostJsonAsync($"/v23.0/{account}/messages", dm);
        Assert.Equal(HttpStatusCode.Forbidden, closed.Status);
        Assert.Equal((10, 2534022), (closed.Code, closed.Subcode));
        Assert.Equal("IGApiException", closed.Error!["type"]!.GetValue<string>());

        await http.PutAccountAsync(account, new { dmWindowOpenFor = new[] { recipient } });
        var sent = await http.PostJsonAsync($"/v23.0/{account}/messages", dm);
        Assert.Equal(HttpStatusCode.OK, sent.Status);
        Assert.Equal(recipient, sent.Json!["recipient_id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(sent.Json["message_id"]!.GetValue<string>()));

        await http.AdvanceClockAsync(TimeSpan.FromHours(24).TotalSeconds + 1);
        var expired = await http.PostJsonAsync($"/v23.0/{account}/messages", dm);
        Assert.Equal(HttpStatusCode.Forbidden, expired.Status);

        var effect = Assert.Single(await http.EffectsAsync(account))!;
        Assert.Equal("instagram_dm", effect["kind"]!.GetValue<string>());
        Assert.Equal("Thanks for writing!", effect["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_refreshed_instagram_token_lives_60_days_and_expires_by_the_virtual_clock()
    {
        var account = Ids.Next();
        await http.ControlAsync(HttpMethod.Put, "/__emu/tokens/IGQ-old-enough", new { ageSeconds = TimeSpan.FromDays(50).TotalSeconds });

        var refreshed = await http.GetGraphAsync("/refresh_access_token?grant_type=ig_refresh_token&access_token=IGQ-old-enough", token: null);

        Assert.Equal(HttpStatusCode.OK, refreshed.Status);
        Assert.Equal(5184000, refreshed.Json!["expires_in"]!.GetValue<int>());
        var token = refreshed.Json["access_token"]!.GetValue<string>();
        var known = await http.ControlAsync(HttpMethod.Get, $"/__emu/tokens/{token}");
        Assert.Equal(TimeSpan.FromDays(60), known["expires_at"]!.GetValue<DateTimeOffset>() - known["issued_at"]!.GetValue<DateTimeOffset>());
        Assert.Equal(HttpStatusCode.OK, (await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit", token)).Status);

        await http.AdvanceClockAsync(TimeSpan.FromDays(60).TotalSeconds + 1);

        var used = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit", token);
        Assert.Equal((190, 463), (used.Code, used.Subcode));
        var refreshedLate = await http.GetGraphAsync($"/refresh_access_token?grant_type=ig_refresh_token&access_token={token}", token: null);
        Assert.Equal((190, 463), (refreshedLate.Code, refreshedLate.Subcode));
    }

    [Fact]
    public async Task A_token_younger_than_24_hours_is_not_refreshed_until_it_is_that_old()
    {
        await http.ControlAsync(HttpMethod.Put, "/__emu/tokens/IGQ-new", new { ageSeconds = 3600 });

        var tooYoung = await http.GetGraphAsync("/refresh_access_token?grant_type=ig_refresh_token&access_token=IGQ-new", token: null);

        Assert.Equal(HttpStatusCode.BadRequest, tooYoung.Status);
        Assert.Equal(100, tooYoung.Code);
        await http.AdvanceClockAsync(TimeSpan.FromHours(23).TotalSeconds);
        Assert.Equal(HttpStatusCode.OK, (await http.GetGraphAsync("/refresh_access_token?grant_type=ig_refresh_token&access_token=IGQ-new", token: null)).Status);
    }

    [Fact]
    public async Task Reset_clears_journal_effects_faults_and_accounts()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { quotaTotal = 1 });
        await http.PostJsonAsync($"/v23.0/{account}/messages", GraphHttp.WhatsAppText("16505551234", "hi"));
        await http.AddFaultAsync(new { code = 2, times = 0 });

        await http.ControlAsync(HttpMethod.Post, "/__emu/reset");

        Assert.Empty(await http.EffectsAsync(account));
        Assert.Empty(await http.JournalAsync(account));
        Assert.Empty((await http.ControlAsync(HttpMethod.Get, "/__emu/faults"))["data"]!.AsArray());
        var limit = await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit?fields=config");
        Assert.Equal(50, limit.Json!["data"]![0]!["config"]!["quota_total"]!.GetValue<int>());
    }
}
