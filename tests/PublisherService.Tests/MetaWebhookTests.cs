using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The whole system with the emulator sending Meta's status webhooks to PublisherService, no automatic resend.</summary>
public sealed class WebhookSystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        MetaWebhooks = true,
        Settings = new Dictionary<string, string?> { ["Retry__BaseDelay"] = "00:00:01" },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>What the system knows of a post's messages from Meta's webhooks, read straight from PostgreSQL.</summary>
internal static class Deliveries
{
    public sealed record Row(string RecipientId, string Wamid, int Attempt, string Status, int? ErrorCode,
        DateTime? SentAt, DateTime? DeliveredAt, DateTime? ReadAt, DateTime? FailedAt);

    public static async Task<List<Row>> OfAsync(SocialSyncSystem system, string postId)
    {
        await using var db = new NpgsqlConnection(system.PostsConnectionString);
        await db.OpenAsync();
        await using var command = new NpgsqlCommand("""
            select recipient_id, wamid, attempt, status, error_code, sent_at, delivered_at, read_at, failed_at
            from delivery_statuses where post_id = @id order by recipient_id, wamid
            """, db);
        command.Parameters.AddWithValue("id", Guid.Parse(postId));
        var rows = new List<Row>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new Row(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4), Time(reader, 5), Time(reader, 6), Time(reader, 7), Time(reader, 8)));
        }
        return rows;
    }

    public static Task<List<Row>> UntilAsync(SocialSyncSystem system, ScheduledPost post, Func<List<Row>, bool> done, string what) =>
        Polling.UntilAsync(() => OfAsync(system, post.Id), done, TimeSpan.FromSeconds(30), what);

    private static DateTime? Time(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetDateTime(column);

    /// <summary>POSTs <paramref name="body"/> to PublisherService's webhook endpoint with <paramref name="signature"/> (none when null).</summary>
    public static async Task<HttpStatusCode> PostWebhookAsync(SocialSyncSystem system, string body, string? signature)
    {
        using var http = new HttpClient { BaseAddress = system.Publisher.HttpAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/meta") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", signature);
        }
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    /// <summary>A status webhook in Meta's shape for one message.</summary>
    public static string StatusBody(string phoneNumberId, string wamid, string recipient, string status, string callback) =>
        JsonSerializer.Serialize(new
        {
            @object = "whatsapp_business_account",
            entry = new[]
            {
                new
                {
                    id = "102290129340398",
                    changes = new[]
                    {
                        new
                        {
                            field = "messages",
                            value = new
                            {
                                messaging_product = "whatsapp",
                                metadata = new { display_phone_number = "15550000000", phone_number_id = phoneNumberId },
                                statuses = new[]
                                {
                                    new { id = wamid, status, timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), recipient_id = recipient, biz_opaque_callback_data = callback },
                                },
                            },
                        },
                    },
                },
            },
        });
}

/// <summary>
/// Meta's webhooks in, through real processes: the emulator sends signed status webhooks after each WhatsApp send,
/// PublisherService checks and forwards them, PostsService records them and settles unconfirmed posts.
/// </summary>
public sealed class MetaWebhookTests(WebhookSystemFixture fixture) : IClassFixture<WebhookSystemFixture>
{
    private SocialSyncSystem System => fixture.System;

    private async Task<(TestUser User, string Account, ScheduledPost Post)> UnconfirmedPostAsync(string text)
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 1 });
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account }, never = true });
        var channel = await user.WhatsAppChannelAsync(account);
        var post = await user.FinishedAsync(await user.PostAsync(channel, text));
        Assert.Equal(PostStatus.Unconfirmed, post.Status);
        return (user, account, post);
    }

    [Fact]
    public async Task The_subscription_handshake_echoes_the_challenge_only_with_the_verify_token()
    {
        using var http = new HttpClient { BaseAddress = System.Publisher.HttpAddress };
        var token = Uri.EscapeDataString(TestTokens.ServiceSecrets["Meta__WebhookVerifyToken"]!);

        using var right = await http.GetAsync($"/webhooks/meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444");
        using var wrong = await http.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444");
        using var noMode = await http.GetAsync($"/webhooks/meta?hub.verify_token={token}&hub.challenge=1158201444");

        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal("1158201444", await right.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, noMode.StatusCode);
    }

    [Fact]
    public async Task Every_whatsapp_send_carries_its_post_attempt_and_send_in_biz_opaque_callback_data()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, "+16505551234", "+16505559876");

        var post = await user.FinishedAsync(await user.PostAsync(channel, "tracked"));

        Assert.Equal(PostStatus.Published, post.Status);
        var callbacks = (await user.EffectsAsync(account, "whatsapp_message")).Select(m => m.GetProperty("biz_opaque_callback_data").GetString()).Order();
        Assert.Equal([$"socialsync:{post.Id}:1:+16505551234#0", $"socialsync:{post.Id}:1:+16505559876#0"], callbacks);
    }

    [Fact]
    public async Task Statuses_are_recorded_per_post_and_recipient_and_a_failed_one_with_its_error_code()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account, recipient = "+16505559876" }, statuses = new[] { "sent", "failed" }, errorCode = 131047 });
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, "+16505551234", "+16505559876");

        var post = await user.FinishedAsync(await user.PostAsync(channel, "to two"));

        var rows = await Deliveries.UntilAsync(System, post, r => r.Count == 2 && r.All(x => x.Status is "read" or "failed"), "both recipients' last statuses");
        var read = Assert.Single(rows, r => r.RecipientId == "16505551234");
        var failed = Assert.Single(rows, r => r.RecipientId == "16505559876");
        Assert.Equal(("read", (int?)null), (read.Status, read.ErrorCode));
        Assert.Equal(("failed", (int?)131047), (failed.Status, failed.ErrorCode));
        Assert.Equal(post.PlatformPostId, (await user.EffectsAsync(account, "whatsapp_message")).First().GetProperty("wamid").GetString());
    }

    [Fact]
    public async Task Duplicated_and_out_of_order_statuses_converge_to_the_right_state()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account }, duplicate = true, outOfOrder = true });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "read before delivered"));

        // Every copy of every status has arrived (read first, sent last, each twice) once the three times are set.
        var wamid = (await user.EffectsAsync(account, "whatsapp_message")).Single().GetProperty("wamid").GetString()!;
        await Polling.UntilAsync(() => System.Emulator.WebhookDeliveriesAsync(wamid), d => d.Count(x => x.GetProperty("http_status").GetInt32() == 200) == 6,
            TimeSpan.FromSeconds(30), "six accepted deliveries");
        var row = Assert.Single(await Deliveries.OfAsync(System, post.Id));
        Assert.Equal("read", row.Status);
        Assert.Equal(wamid, row.Wamid);
        Assert.True(row.SentAt <= row.DeliveredAt && row.DeliveredAt <= row.ReadAt, $"{row.SentAt} {row.DeliveredAt} {row.ReadAt}");
        Assert.Equal(PostStatus.Published, (await user.GetAsync(post)).Status);
    }

    [Fact]
    public async Task A_commit_then_drop_whatsapp_send_ends_published_with_its_wamid_without_a_second_send_when_its_status_arrives()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        // The answer is lost; the statuses come late, so the post is unconfirmed first.
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 1 });
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account }, delayMs = 3000 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.UntilAsync(await user.PostAsync(channel, "lost answer"), p => p.Status == PostStatus.Published, "the post to be published");

        var message = Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        Assert.Equal(message.GetProperty("wamid").GetString(), post.PlatformPostId);
        var send = Assert.Single(await user.RequestsAsync(account, "wa_send"));
        Assert.Equal("after_commit", send.GetProperty("dropped").GetString());
        Assert.Equal("success", Assert.Single(await user.RunsAsync(post)).Status);
        var events = (await System.PostClient.ListPostEventsAsync(new ListPostEventsRequest { Id = post.Id }, user.Auth)).Events.Select(e => e.Kind).ToList();
        Assert.True(events.IndexOf("unconfirmed") >= 0 && events.IndexOf("unconfirmed") < events.IndexOf("published"), string.Join(", ", events));
    }

    [Fact]
    public async Task Forged_webhooks_change_nothing_and_the_same_body_signed_with_the_app_secret_settles_the_post()
    {
        var (user, account, post) = await UnconfirmedPostAsync("forged");
        var message = Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        var (wamid, callback) = (message.GetProperty("wamid").GetString()!, message.GetProperty("biz_opaque_callback_data").GetString()!);
        var body = Deliveries.StatusBody(account, wamid, "16505551234", "delivered", callback);

        Assert.Equal(HttpStatusCode.Unauthorized, await Deliveries.PostWebhookAsync(System, body, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await Deliveries.PostWebhookAsync(System, body, Deliveries.Sign(TestTokens.RandomSecret(), body)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Deliveries.PostWebhookAsync(System, body, "sha256=" + new string('0', 64)));
        Assert.Equal(HttpStatusCode.Unauthorized, await Deliveries.PostWebhookAsync(System, body, Deliveries.Sign(TestTokens.MetaAppSecret, body + " ")));
        Assert.Equal(HttpStatusCode.Unauthorized, await Deliveries.PostWebhookAsync(System, body, "sha1=" + Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(body)))));

        Assert.Equal(PostStatus.Unconfirmed, (await user.GetAsync(post)).Status);
        Assert.Empty(await Deliveries.OfAsync(System, post.Id));

        // The control: the very same body, signed with the app secret, is believed.
        Assert.Equal(HttpStatusCode.OK, await Deliveries.PostWebhookAsync(System, body, Deliveries.Sign(TestTokens.MetaAppSecret, body)));
        var settled = await user.GetAsync(post);
        Assert.Equal((PostStatus.Published, wamid), (settled.Status, settled.PlatformPostId));
    }

    [Fact]
    public async Task A_status_naming_another_attempt_of_the_post_does_not_settle_it()
    {
        var (user, account, post) = await UnconfirmedPostAsync("fenced by attempt");
        var message = Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        var wamid = message.GetProperty("wamid").GetString()!;
        var otherAttempt = message.GetProperty("biz_opaque_callback_data").GetString()!.Replace($"{post.Id}:1:", $"{post.Id}:2:", StringComparison.Ordinal);
        var body = Deliveries.StatusBody(account, wamid, "16505551234", "sent", otherAttempt);

        Assert.Equal(HttpStatusCode.OK, await Deliveries.PostWebhookAsync(System, body, Deliveries.Sign(TestTokens.MetaAppSecret, body)));

        Assert.Equal(PostStatus.Unconfirmed, (await user.GetAsync(post)).Status);
        Assert.Equal(2, Assert.Single(await Deliveries.OfAsync(System, post.Id)).Attempt);
    }

    [Fact]
    public async Task Replayed_webhooks_change_nothing()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account);
        var post = await user.FinishedAsync(await user.PostAsync(channel, "replayed"));
        var wamid = (await user.EffectsAsync(account, "whatsapp_message")).Single().GetProperty("wamid").GetString()!;
        await Deliveries.UntilAsync(System, post, r => r.Count == 1 && r[0].Status == "read", "the read status");
        var deliveries = await System.Emulator.WebhookDeliveriesAsync(wamid);
        var before = (Rows: await Deliveries.OfAsync(System, post.Id), Post: await user.GetAsync(post));

        // Meta's own signed bodies, again, oldest first: each is genuine, and none may move anything back.
        foreach (var delivery in deliveries.Concat(deliveries))
        {
            var status = await Deliveries.PostWebhookAsync(System, delivery.GetProperty("body").GetString()!, delivery.GetProperty("signature").GetString());
            Assert.Equal(HttpStatusCode.OK, status);
        }

        Assert.Equal(before.Rows, await Deliveries.OfAsync(System, post.Id));
        Assert.Equal(before.Post, await user.GetAsync(post));
    }
}
