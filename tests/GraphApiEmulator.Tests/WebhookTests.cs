using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SocialSync.GraphApiEmulator.Tests;

/// <summary>A callback URL on a real loopback port that keeps every request it receives (body and signature).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;

    private WebhookReceiver(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }

    public ConcurrentQueue<(string Body, string Signature)> Received { get; } = new();

    private int refuseNext;
    private string? refuseAccount;

    /// <summary>Refuses the next <paramref name="count"/> deliveries about <paramref name="account"/> with 500 (an endpoint down for a while).</summary>
    public void Refuse(string account, int count)
    {
        refuseAccount = account;
        Volatile.Write(ref refuseNext, count);
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (receiver!.refuseAccount is { } refused && body.Contains($"\"phone_number_id\":\"{refused}\"", StringComparison.Ordinal)
                && Interlocked.Decrement(ref receiver.refuseNext) >= 0)
            {
                return Results.StatusCode(500);
            }

            receiver.Received.Enqueue((body, request.Headers["X-Hub-Signature-256"].ToString()));
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver = new WebhookReceiver(app, new Uri(address.TrimEnd('/') + "/hook"));
        return receiver;
    }

    /// <summary>The statuses received for <paramref name="account"/>'s messages, in the order they arrived.</summary>
    public List<(JsonNode Status, string Body, string Signature)> For(string account) =>
        Received.Select(r => (Json: JsonNode.Parse(r.Body)!, r.Body, r.Signature))
            .Where(r => r.Json["entry"]![0]!["changes"]![0]!["value"]!["metadata"]!["phone_number_id"]!.GetValue<string>() == account)
            .Select(r => (r.Json["entry"]![0]!["changes"]![0]!["value"]!["statuses"]![0]!, r.Body, r.Signature))
            .ToList();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>An emulator whose status webhooks go to a <see cref="WebhookReceiver"/>, signed with a known app secret.</summary>
public sealed class WebhookFixture : IAsyncLifetime
{
    public string AppSecret { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));

    public EmulatorHost Host { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public WebhookReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        Host = await EmulatorApp.StartAsync(o =>
        {
            o.Webhooks.CallbackUrl = Receiver.Url.ToString();
            o.Webhooks.AppSecret = AppSecret;
        });
        Http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class WebhookTests(WebhookFixture fixture) : IClassFixture<WebhookFixture>
{
    private readonly HttpClient http = fixture.Http;

    private async Task<string> SendAsync(string account, string? callbackData = "post-1:1:+15550001#0", string to = "+1 555-000-1111")
    {
        var message = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(GraphHttp.WhatsAppText(to, "hello")))!.AsObject();
        if (callbackData is not null)
        {
            message["biz_opaque_callback_data"] = callbackData;
        }

        var reply = await http.PostJsonAsync($"/v23.0/{account}/messages", message);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return reply.Json!["messages"]![0]!["id"]!.GetValue<string>();
    }

    private Task<List<(JsonNode Status, string Body, string Signature)>> ReceivedAsync(string account, int count, double seconds = 5) =>
        GraphHttp.EventuallyAsync(() => Task.FromResult(fixture.Receiver.For(account)), r => r.Count >= count, TimeSpan.FromSeconds(seconds));

    private string Signature(string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(fixture.AppSecret), Encoding.UTF8.GetBytes(body)));

    [Fact]
    public async Task A_send_is_followed_by_sent_delivered_and_read_webhooks_in_metas_shape_signed_with_the_app_secret()
    {
        var account = Ids.Next();
        var wamid = await SendAsync(account);

        var received = await ReceivedAsync(account, 3);

        Assert.Equal(["sent", "delivered", "read"], received.Select(r => r.Status["status"]!.GetValue<string>()));
        Assert.All(received, r =>
        {
            Assert.Equal(Signature(r.Body), r.Signature);
            var json = JsonNode.Parse(r.Body)!;
            Assert.Equal("whatsapp_business_account", json["object"]!.GetValue<string>());
            Assert.Equal("messages", json["entry"]![0]!["changes"]![0]!["field"]!.GetValue<string>());
            Assert.Equal(wamid, r.Status["id"]!.GetValue<string>());
            Assert.Equal("15550001111", r.Status["recipient_id"]!.GetValue<string>());
            Assert.Equal("post-1:1:+15550001#0", r.Status["biz_opaque_callback_data"]!.GetValue<string>());
            Assert.True(long.TryParse(r.Status["timestamp"]!.GetValue<string>(), out _));
        });
    }

    [Fact]
    public async Task A_send_whose_answer_is_dropped_after_commit_still_gets_its_status_webhooks()
    {
        var account = Ids.Next();
        await http.AddFaultAsync(new { match = new { account }, drop = "after_commit" });

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => SendAsync(account, "post-2:3:+15550001#0"));

        var received = await ReceivedAsync(account, 3);
        var wamid = (await http.EffectsAsync(account)).Single()!["wamid"]!.GetValue<string>();
        Assert.All(received, r => Assert.Equal(wamid, r.Status["id"]!.GetValue<string>()));
        Assert.All(received, r => Assert.Equal("post-2:3:+15550001#0", r.Status["biz_opaque_callback_data"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_failed_status_carries_its_error_code()
    {
        var account = Ids.Next();
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account }, statuses = new[] { "failed" }, errorCode = 131047 });

        await SendAsync(account);

        var failed = Assert.Single(await ReceivedAsync(account, 1));
        Assert.Equal("failed", failed.Status["status"]!.GetValue<string>());
        Assert.Equal(131047, failed.Status["errors"]![0]!["code"]!.GetValue<int>());
    }

    [Fact]
    public async Task Duplicated_webhooks_arrive_twice_each_and_out_of_order_ones_arrive_last_first_with_true_timestamps()
    {
        var duplicated = Ids.Next();
        var reversed = Ids.Next();
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account = duplicated }, duplicate = true });
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account = reversed }, outOfOrder = true });

        await SendAsync(duplicated);
        await SendAsync(reversed);

        var twice = await ReceivedAsync(duplicated, 6);
        Assert.Equal(6, twice.Count);
        Assert.All(twice.GroupBy(r => r.Status["status"]!.GetValue<string>()), g => Assert.Equal(2, g.Count()));
        var backwards = await ReceivedAsync(reversed, 3);
        Assert.Equal(["read", "delivered", "sent"], backwards.Select(r => r.Status["status"]!.GetValue<string>()));
        var times = backwards.Select(r => long.Parse(r.Status["timestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(times[0] >= times[1] && times[1] >= times[2], "the read status keeps the latest time");
    }

    [Fact]
    public async Task A_late_webhook_waits_for_virtual_time_and_a_never_rule_sends_nothing()
    {
        var late = Ids.Next();
        var never = Ids.Next();
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account = late }, delayMs = 3_600_000, statuses = new[] { "sent" } });
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account = never }, never = true });

        await SendAsync(late);
        await SendAsync(never);
        await Task.Delay(500);
        Assert.Empty(fixture.Receiver.For(late));

        await http.AdvanceClockAsync(3600);

        Assert.Single(await ReceivedAsync(late, 1));
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/flush");
        Assert.Empty(fixture.Receiver.For(never));
    }

    [Fact]
    public async Task A_badly_signed_webhook_does_not_verify_with_the_app_secret()
    {
        var account = Ids.Next();
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account }, badSignature = true, statuses = new[] { "sent" } });

        await SendAsync(account);

        var forged = Assert.Single(await ReceivedAsync(account, 1));
        Assert.StartsWith("sha256=", forged.Signature, StringComparison.Ordinal);
        Assert.NotEqual(Signature(forged.Body), forged.Signature);
    }

    [Fact]
    public async Task A_delivery_the_callback_refuses_is_retried_until_accepted_and_journaled()
    {
        var account = Ids.Next();
        await http.ControlAsync(HttpMethod.Post, "/__emu/webhooks/rules", new { match = new { account }, statuses = new[] { "sent" } });
        fixture.Receiver.Refuse(account, 2);

        var wamid = await SendAsync(account);

        Assert.Single(await ReceivedAsync(account, 1, seconds: 10));
        var attempts = (await http.ControlAsync(HttpMethod.Get, $"/__emu/webhooks/deliveries?wamid={Uri.EscapeDataString(wamid)}"))["data"]!.AsArray();
        Assert.Equal([500, 500, 200], attempts.Select(a => a!["http_status"]!.GetValue<int>()));
    }
}
