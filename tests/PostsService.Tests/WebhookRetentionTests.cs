using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>A PostsService that keeps ended webhook deliveries for 3 seconds, and retries a failed one only after an hour.</summary>
public sealed class WebhookRetentionFixture : PostsServiceFixture
{
    public static readonly TimeSpan Retention = TimeSpan.FromSeconds(3);

    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Webhooks__AllowInsecureUrls"] = "true",
        ["Webhooks__PollInterval"] = "00:00:00.100",
        ["Webhooks__DeliveryRetention"] = "00:00:03",
        ["Webhooks__RetryDelays__0"] = "01:00:00",
    };

    private GrpcChannel? _webhooksChannel;

    public WebhookEndpointService.WebhookEndpointServiceClient Webhooks => new(_webhooksChannel ??= GrpcChannel.ForAddress(Service.GrpcAddress));
}

/// <summary>
/// Webhooks:DeliveryRetention (docs/webhooks.md): a delivered event leaves the endpoint's log, with its attempts, once
/// the retention has passed since it was delivered; an event still waiting to be sent stays however old it is (here
/// one kept pending for an endpoint disabled after its first failure, its retry long overdue).
/// </summary>
public sealed class WebhookRetentionTests(WebhookRetentionFixture fixture) : IClassFixture<WebhookRetentionFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task A_delivered_event_is_deleted_with_its_attempts_after_the_retention_and_a_pending_one_is_kept()
    {
        await using var accepting = WebhookReceiver.Start();
        await using var failing = WebhookReceiver.Start();
        failing.Answer = _ => 503;
        var (delivered, deliveredOwner) = await EndpointWithOnePostAsync(accepting.Url);
        var (pending, pendingOwner) = await EndpointWithOnePostAsync(failing.Url);
        await accepting.UntilAsync(received => received.Any(r => r.AnsweredWith == 200), "the event delivered");
        await failing.UntilAsync(received => received.Count > 0, "the event's first (failed) attempt");

        var deliveredEvent = Assert.Single((await LogAsync(delivered, deliveredOwner)).Attempts).EventId;
        // The retention runs from the delivery PostsService recorded, which can be seconds before this point: the
        // second endpoint's setup and the failing endpoint's first attempt ran in between.
        var deliveredAt = (DateTime)(await Polling.UntilAsync(
            () => fixture.OwnerScalarAsync("select delivered_at from webhook_deliveries where endpoint_id = @id and event_id = @event",
                ("id", Guid.Parse(delivered.Id)), ("event", deliveredEvent)),
            at => at is DateTime, Patience, "the delivery recorded as delivered"))!;
        Assert.Single((await LogAsync(pending, pendingOwner)).Attempts);
        // Disabled, its endpoint's events wait; the one waiting since an hour ago is older than the retention.
        await fixture.Webhooks.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest
        {
            Endpoint = new WebhookEndpoint { Id = pending.Id, Enabled = false },
            UpdateMask = new FieldMask { Paths = { "enabled" } },
        }, pendingOwner.Headers);
        await fixture.OwnerScalarAsync(
            "update webhook_deliveries set next_attempt_at = now() - interval '1 hour', created_at = now() - interval '1 hour' where endpoint_id = @id",
            ("id", Guid.Parse(pending.Id)));

        await Polling.UntilAsync(() => LogAsync(delivered, deliveredOwner), log => log.Attempts.Count == 0, Patience,
            "the delivered event to leave the log");
        Assert.True(DateTime.UtcNow - deliveredAt >= WebhookRetentionFixture.Retention, "deleted before the retention passed");
        Assert.Equal(0L, await fixture.OwnerScalarAsync(
            "select count(*) from webhook_delivery_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.event_id = @event",
            ("event", deliveredEvent)));
        Assert.Equal(0L, await fixture.OwnerScalarAsync("select count(*) from webhook_delivery_attempts where endpoint_id = @id",
            ("id", Guid.Parse(delivered.Id))));

        // Long older than the retention, but never sent: still in the log, attempt and all.
        Assert.Single((await LogAsync(pending, pendingOwner)).Attempts);
        Assert.Equal("pending", await fixture.OwnerScalarAsync("select state from webhook_deliveries where endpoint_id = @id",
            ("id", Guid.Parse(pending.Id))));
    }

    private async Task<(WebhookEndpoint Endpoint, TestUser Owner)> EndpointWithOnePostAsync(string url)
    {
        var owner = fixture.NewUser();
        var endpoint = (await fixture.Webhooks.CreateWebhookEndpointAsync(
            new CreateWebhookEndpointRequest { Url = url, EventTypes = { "post.created" } }, owner.Headers)).Endpoint;
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        await fixture.CreatePostAsync(owner, channel, "an event");
        return (endpoint, owner);
    }

    private Task<ListWebhookDeliveriesResponse> LogAsync(WebhookEndpoint endpoint, TestUser owner) =>
        fixture.Webhooks.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { EndpointId = endpoint.Id, PageSize = 100 }, owner.Headers).ResponseAsync;
}
