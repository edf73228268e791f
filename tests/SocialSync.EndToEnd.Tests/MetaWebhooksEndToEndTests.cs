using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.Testing;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.EndToEnd.Tests;

/// <summary>
/// The AppHost wires Meta's webhooks: the emulator signs its status webhooks with the generated app secret and sends
/// them to PublisherService, which answers the handshake with the generated verify token.
/// </summary>
[Collection(AppHostCollection.Name)]
public sealed class MetaWebhooksEndToEndTests(AppHostFixture system)
{
    [Fact]
    public async Task Under_the_AppHost_a_whatsapp_send_whose_answer_is_lost_is_published_by_its_signed_status_webhook()
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var phoneNumberId = $"pn-{Guid.NewGuid():N}"[..16];
        var channels = new ChannelService.ChannelServiceClient(system.PostsChannel);
        var posts = new PostService.PostServiceClient(system.PostsChannel);
        (await system.Emulator.PostAsJsonAsync("/__emu/faults", new { match = new { method = "POST", account = phoneNumberId }, drop = "after_commit" }))
            .EnsureSuccessStatusCode();
        var channel = await channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = phoneNumberId,
            AccessToken = "EAAG-e2e-token",
            DisplayName = "E2E webhooks",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);

        var created = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "answer lost, status arrives" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(2)),
        }, auth);
        var published = await Polling.UntilAsync(
            async () => await posts.GetPostAsync(new GetPostRequest { Id = created.Id }, auth),
            p => p.Status == PostStatus.Published, TimeSpan.FromSeconds(60), "the post to be published by its status");

        var effects = await system.Emulator.GetFromJsonAsync<JsonElement>($"/__emu/effects?account={phoneNumberId}");
        var message = Assert.Single(effects.GetProperty("data").EnumerateArray());
        var wamid = message.GetProperty("wamid").GetString()!;
        Assert.Equal(wamid, published.PlatformPostId);
        var deliveries = await system.Emulator.GetFromJsonAsync<JsonElement>($"/__emu/webhooks/deliveries?wamid={Uri.EscapeDataString(wamid)}");
        Assert.Contains(deliveries.GetProperty("data").EnumerateArray(), d => d.GetProperty("http_status").GetInt32() == 200);
    }

    [Fact]
    public async Task Under_the_AppHost_PublisherService_answers_metas_handshake_with_the_generated_verify_token()
    {
        using var publisher = new HttpClient { BaseAddress = system.App.GetEndpoint("publisher-service", "http") };
        var token = Uri.EscapeDataString(TestTokens.AppHostSecret("meta-webhook-verify-token"));

        using var right = await publisher.GetAsync($"/webhooks/meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42");
        using var wrong = await publisher.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=42");

        Assert.Equal("42", await right.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
    }
}
