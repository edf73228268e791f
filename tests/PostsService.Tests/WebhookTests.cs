using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A PostsService whose webhooks may call the tests' loopback receivers over http, with the retry schedule and the
/// disabling rule shortened from days to seconds.
/// </summary>
public sealed class WebhooksFixture : PostsServiceFixture
{
    /// <summary>An endpoint is disabled here after this many failed attempts in a row...</summary>
    public const int DisableAfterFailures = 30;

    /// <summary>...over at least this long.</summary>
    public static readonly TimeSpan DisableAfterFailingFor = TimeSpan.FromSeconds(3);

    private GrpcChannel? _webhooksChannel;

    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Webhooks__AllowInsecureUrls"] = "true",
        ["Webhooks__PollInterval"] = "00:00:00.100",
        ["Webhooks__RequestTimeout"] = "00:00:02",
        ["Webhooks__DisableAfterFailures"] = DisableAfterFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Webhooks__DisableAfterFailingFor"] = "00:00:03",
        // Ten retries over about 8 seconds.
        ["Webhooks__RetryDelays__0"] = "00:00:00.200",
        ["Webhooks__RetryDelays__1"] = "00:00:00.400",
        ["Webhooks__RetryDelays__2"] = "00:00:00.800",
        ["Webhooks__RetryDelays__3"] = "00:00:01",
        ["Webhooks__RetryDelays__4"] = "00:00:01",
        ["Webhooks__RetryDelays__5"] = "00:00:01",
        ["Webhooks__RetryDelays__6"] = "00:00:01",
        ["Webhooks__RetryDelays__7"] = "00:00:01",
        ["Webhooks__RetryDelays__8"] = "00:00:01",
        ["Webhooks__RetryDelays__9"] = "00:00:01",
    };

    public WebhookEndpointService.WebhookEndpointServiceClient Webhooks =>
        new(_webhooksChannel ??= GrpcChannel.ForAddress(Service.GrpcAddress));
}

/// <summary>
/// Webhooks out (issue 17 part 5, docs/webhooks.md "Webhooks out"): every event reaches a receiver that fails for a
/// while, at least once, signed per Standard Webhooks (checked by the tests' own verifier), across a kill -9 of
/// PostsService; key rotation; disabling after persistent failure; roles; URL checks; manual redelivery.
/// </summary>
public sealed class WebhookTests(WebhooksFixture fixture) : IClassFixture<WebhooksFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task A_receiver_that_fails_for_a_while_gets_every_event_at_least_once_each_signed_across_a_PostsService_kill_9()
    {
        await using var receiver = WebhookReceiver.Start();
        // Each event's first two attempts fail with 500, the third is accepted.
        var attemptsSeen = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        receiver.Answer = id => attemptsSeen.AddOrUpdate(id, 1, (_, n) => n + 1) <= 2 ? 500 : 200;
        var user = fixture.NewUser();
        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = receiver.Url }, user.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var posts = new List<ScheduledPost>();
        for (var i = 0; i < 4; i++)
        {
            posts.Add(await fixture.CreatePostAsync(user, channel, $"post {i}"));
        }
        await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = posts[0].Id, Content = new Content { Text = "edited" } }, user.Headers);
        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = posts[1].Id }, user.Headers);

        await receiver.UntilAsync(received => received.Count >= 3, "the first failing attempts");
        fixture.Service.Kill();
        // While PostsService is down, the channel is flagged (as a publisher's failure does): its event is queued by
        // the same transaction, and sent once PostsService is back.
        await fixture.OwnerScalarAsync("update channels set state = 'needs_reconnect', state_reason = 'token expired' where id = @id",
            ("id", Guid.Parse(channel.Id)));
        await fixture.Service.StartAsync();

        var changeIds = await PostChangeIdsAsync(user.Id);
        Assert.Equal(4 + 1 + 1, changeIds.Count);
        var expected = changeIds.Select(id => $"evt_{id}").ToHashSet();
        var received = await receiver.UntilAsync(all => expected.All(id => all.Any(r => r.Id == id && r.AnsweredWith == 200))
                && all.Any(r => r.AnsweredWith == 200 && Type(r) == "channel.needs_reconnect"),
            "every event accepted once", Patience);

        Assert.All(received, webhook => Assert.True(StandardWebhooksVerifier.Verifies(webhook, created.Secret), $"{webhook.Id} is not signed with the secret"));
        Assert.All(received.GroupBy(r => r.Id), attempts =>
        {
            Assert.Single(attempts.Select(a => a.Body).Distinct());
            Assert.True(attempts.Count() >= 3, $"{attempts.Key} was accepted before its third attempt");
        });
        Assert.Equal(expected.Count + 1, received.Select(r => r.Id).Distinct().Count());
        var types = received.Select(Type).ToHashSet();
        Assert.Superset(new HashSet<string> { "post.created", "post.edited", "post.cancelled", "channel.needs_reconnect" }, types);
        var cancelled = JsonDocument.Parse(received.First(r => Type(r) == "post.cancelled").Body).RootElement;
        Assert.Equal(posts[1].Id, cancelled.GetProperty("data").GetProperty("post_id").GetString());
        Assert.Equal(user.Id.ToString(), cancelled.GetProperty("data").GetProperty("workspace_id").GetString());
        var reconnect = JsonDocument.Parse(received.First(r => Type(r) == "channel.needs_reconnect").Body).RootElement;
        Assert.Equal(channel.Id, reconnect.GetProperty("data").GetProperty("channel_id").GetString());

        // The delivery log tells each attempt: the failures with their status, then the success.
        var log = await fixture.Webhooks.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { EndpointId = created.Endpoint.Id, PageSize = 100 },
            user.Headers);
        var firstEvent = $"evt_{changeIds[0]}";
        // (An attempt made as PostsService was killed may have no record: it was made again after its claim's lease.)
        var statuses = log.Attempts.Where(a => a.EventId == firstEvent).OrderBy(a => a.Attempt).Select(a => a.HttpStatus).ToList();
        Assert.Equal(500, statuses[0]);
        Assert.Equal(200, statuses[^1]);
        Assert.True((await fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = created.Endpoint.Id }, user.Headers)).Enabled);
    }

    [Fact]
    public async Task After_a_rotation_both_secrets_sign_and_the_old_one_verifies_until_its_grace_period_ends()
    {
        await using var receiver = WebhookReceiver.Start();
        var user = fixture.NewUser();
        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = receiver.Url }, user.Headers);
        var oldSecret = created.Secret;
        Assert.StartsWith("whsec_", oldSecret, StringComparison.Ordinal);
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        await fixture.CreatePostAsync(user, channel, "before");
        var before = (await receiver.UntilAsync(r => r.Count >= 1, "the first webhook"))[0];
        Assert.Single(before.Signature.Split(' '));
        Assert.True(StandardWebhooksVerifier.Verifies(before, oldSecret));

        var rotated = await fixture.Webhooks.RotateWebhookEndpointSecretAsync(new RotateWebhookEndpointSecretRequest { Id = created.Endpoint.Id }, user.Headers);
        Assert.NotEqual(oldSecret, rotated.Secret);
        Assert.InRange(rotated.Endpoint.PreviousSecretExpireTime.ToDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        await fixture.CreatePostAsync(user, channel, "during the grace period");
        var during = (await receiver.UntilAsync(r => r.Count >= 2, "a webhook after the rotation"))[1];
        var signatures = during.Signature.Split(' ');
        Assert.Equal(2, signatures.Length);
        Assert.True(StandardWebhooksVerifier.Verifies(during, rotated.Secret), "the new secret verifies");
        Assert.True(StandardWebhooksVerifier.Verifies(during, oldSecret), "the old secret still verifies during the grace period");
        Assert.False(StandardWebhooksVerifier.Verifies(during with { Signature = signatures[0] }, oldSecret), "the first signature is the new secret's");

        // The grace period ends (moved into the past here): only the new secret signs.
        await fixture.OwnerScalarAsync("update webhook_endpoints set previous_secret_until = now() - interval '1 second' where id = @id",
            ("id", Guid.Parse(created.Endpoint.Id)));
        await fixture.CreatePostAsync(user, channel, "after the grace period");
        var after = (await receiver.UntilAsync(r => r.Count >= 3, "a webhook after the grace period"))[2];
        Assert.Single(after.Signature.Split(' '));
        Assert.True(StandardWebhooksVerifier.Verifies(after, rotated.Secret));
        Assert.False(StandardWebhooksVerifier.Verifies(after, oldSecret));
    }

    [Fact]
    public async Task An_endpoint_that_always_fails_is_disabled_after_the_documented_limit_and_its_state_says_why()
    {
        await using var receiver = WebhookReceiver.Start();
        receiver.Answer = _ => 503;
        var user = fixture.NewUser();
        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = receiver.Url }, user.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(user);

        var disabled = await FailUntilDisabledAsync(user, channel, created.Endpoint.Id);
        Assert.True(disabled.ConsecutiveFailures >= WebhooksFixture.DisableAfterFailures, $"disabled after {disabled.ConsecutiveFailures} failures");
        var firstFailure = receiver.Received.Min(r => r.At);
        Assert.True(disabled.DisableTime.ToDateTimeOffset() - firstFailure >= WebhooksFixture.DisableAfterFailingFor - TimeSpan.FromMilliseconds(100),
            $"disabled {disabled.DisableTime.ToDateTimeOffset() - firstFailure} after the first failure");
        Assert.Contains("failed delivery attempts in a row", disabled.DisabledReason, StringComparison.Ordinal);
        Assert.Contains("HTTP 503", disabled.DisabledReason, StringComparison.Ordinal);
        var listed = await fixture.Webhooks.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { WorkspaceId = user.Id.ToString() }, user.Headers);
        Assert.False(Assert.Single(listed.Endpoints).Enabled);

        // Nothing more is sent to it, new events included.
        await Task.Delay(500);
        var sent = receiver.Received.Count;
        await fixture.CreatePostAsync(user, channel, "after disabling");
        await Task.Delay(1500);
        Assert.Equal(sent, receiver.Received.Count);
        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Webhooks.RedeliverWebhookAsync(
            new RedeliverWebhookRequest { EndpointId = created.Endpoint.Id, EventId = receiver.Received[0].Id }, user.Headers).ResponseAsync);

        // Enabled again, it gets the events it kept pending.
        receiver.Answer = _ => 200;
        await fixture.Webhooks.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest
        {
            Endpoint = new WebhookEndpoint { Id = created.Endpoint.Id, Enabled = true },
            UpdateMask = new FieldMask { Paths = { "enabled" } },
        }, user.Headers);
        await receiver.UntilAsync(r => r.Any(w => w.AnsweredWith == 200), "a delivery after enabling", Patience);
    }

    [Fact]
    public async Task A_disabled_endpoint_is_announced_once_to_the_workspaces_other_endpoints_that_ask_for_it()
    {
        await using var failing = WebhookReceiver.Start();
        failing.Answer = _ => 503;
        await using var watcher = WebhookReceiver.Start();
        await using var postsOnly = WebhookReceiver.Start();
        var user = fixture.NewUser();
        var stranger = fixture.NewUser();
        await using var strangersReceiver = WebhookReceiver.Start();
        var broken = await fixture.Webhooks.CreateWebhookEndpointAsync(
            new CreateWebhookEndpointRequest { Url = failing.Url, Description = "the CRM's hook" }, user.Headers);
        var watching = await fixture.Webhooks.CreateWebhookEndpointAsync(
            new CreateWebhookEndpointRequest { Url = watcher.Url, EventTypes = { "webhook_endpoint.*" } }, user.Headers);
        await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = postsOnly.Url, EventTypes = { "post.*" } }, user.Headers);
        // Another workspace's endpoint that wants every event.
        await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = strangersReceiver.Url }, stranger.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(user);

        var disabled = await FailUntilDisabledAsync(user, channel, broken.Endpoint.Id);
        await watcher.UntilAsync(r => r.Count >= 1, "the disabling announced", Patience);
        // The failing endpoint's last retries cannot add a second disabling: let them pass, then count.
        await Task.Delay(1500);

        var announcement = Assert.Single(watcher.Received);
        Assert.True(StandardWebhooksVerifier.Verifies(announcement, watching.Secret), "signed with the watching endpoint's secret");
        using var body = JsonDocument.Parse(announcement.Body);
        Assert.Equal("webhook_endpoint.disabled", body.RootElement.GetProperty("type").GetString());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(broken.Endpoint.Id, data.GetProperty("endpoint_id").GetString());
        Assert.Equal(user.Id.ToString(), data.GetProperty("workspace_id").GetString());
        Assert.Equal(failing.Url, data.GetProperty("url").GetString());
        Assert.Equal("the CRM's hook", data.GetProperty("description").GetString());
        Assert.Equal(disabled.DisabledReason, data.GetProperty("disabled_reason").GetString());
        // The count when it was disabled: attempts already in flight then may still add their failures to the endpoint's.
        var failuresWhenDisabled = data.GetProperty("consecutive_failures").GetInt32();
        Assert.InRange(failuresWhenDisabled, WebhooksFixture.DisableAfterFailures, disabled.ConsecutiveFailures);
        Assert.StartsWith("evt_endpoint_disabled_", announcement.Id, StringComparison.Ordinal);

        // Not to an endpoint that filters it out, nor to another workspace's, nor to the disabled one itself.
        Assert.NotEmpty(postsOnly.Received);
        Assert.DoesNotContain(postsOnly.Received, r => r.Body.Contains("webhook_endpoint.disabled", StringComparison.Ordinal));
        Assert.DoesNotContain(strangersReceiver.Received, r => r.Body.Contains("webhook_endpoint.disabled", StringComparison.Ordinal));
        Assert.DoesNotContain(failing.Received, r => r.Body.Contains("webhook_endpoint.disabled", StringComparison.Ordinal));
    }

    /// <summary>Creates six posts (sixty attempts with the shortened schedule) for an endpoint that fails them all; returns it once disabled.</summary>
    private async Task<WebhookEndpoint> FailUntilDisabledAsync(TestUser user, Channel channel, string endpointId)
    {
        for (var i = 0; i < 6; i++)
        {
            await fixture.CreatePostAsync(user, channel, $"post {i}");
        }
        return await Polling.UntilAsync(
            () => fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = endpointId }, user.Headers).ResponseAsync,
            endpoint => !endpoint.Enabled, Patience, "the endpoint disabled");
    }

    [Fact]
    public async Task Only_owners_and_admins_manage_endpoints_and_another_workspaces_endpoint_is_NOT_FOUND()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Hooks" }, owner.Headers);
        var admin = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Admin);
        var editor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var stranger = fixture.NewUser();
        var request = new CreateWebhookEndpointRequest { WorkspaceId = workspace.Id, Url = "https://hooks.example.com/socialsync", EventTypes = { "post.*" } };

        var denied = await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.CreateWebhookEndpointAsync(request, viewer.Headers).ResponseAsync);
        Assert.Contains("admin", denied.Status.Detail, StringComparison.Ordinal);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.CreateWebhookEndpointAsync(request, editor.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Webhooks.CreateWebhookEndpointAsync(request, stranger.Headers).ResponseAsync);

        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(request, admin.Headers);
        Assert.Equal(workspace.Id, created.Endpoint.WorkspaceId);
        var id = created.Endpoint.Id;
        Assert.Equal(id, (await fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = id }, owner.Headers)).Id);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = id }, viewer.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { EndpointId = id }, viewer.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.RotateWebhookEndpointSecretAsync(new RotateWebhookEndpointSecretRequest { Id = id }, editor.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Webhooks.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest { WorkspaceId = workspace.Id }, viewer.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = id }, stranger.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Webhooks.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { Id = id }, stranger.Headers).ResponseAsync);
        Assert.Empty((await fixture.Webhooks.ListWebhookEndpointsAsync(new ListWebhookEndpointsRequest(), viewer.Headers)).Endpoints);

        // REST, through the same checks: the owner changes, lists and deletes it.
        async Task<string> SendAsync(HttpMethod method, string path, string? json = null)
        {
            using var response = await fixture.Http.SendAsync(fixture.Rest(method, path, owner, json));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {body}");
            return body;
        }
        Assert.Contains("\"Orders\"", await SendAsync(HttpMethod.Patch, $"/api/webhook-endpoints/{id}", """{"description":"Orders"}"""));
        Assert.Contains(id, await SendAsync(HttpMethod.Get, $"/api/webhook-endpoints?workspace_id={workspace.Id}"));
        Assert.Contains("whsec_", await SendAsync(HttpMethod.Post, $"/api/webhook-endpoints/{id}:rotateSecret", "{}"));
        await SendAsync(HttpMethod.Delete, $"/api/webhook-endpoints/{id}");
        await Expect.Status(StatusCode.NotFound, () => fixture.Webhooks.GetWebhookEndpointAsync(new GetWebhookEndpointRequest { Id = id }, owner.Headers).ResponseAsync);
    }

    [Fact]
    public async Task A_bad_url_or_event_type_is_INVALID_ARGUMENT_naming_the_field()
    {
        var user = fixture.NewUser();
        foreach (var url in new[] { "", "not a url", "ftp://hooks.example.com/x", "https://user:secret@hooks.example.com/x" })
        {
            await Expect.BadFields(() => fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = url }, user.Headers).ResponseAsync, "url");
        }
        await Expect.BadFields(() => fixture.Webhooks.CreateWebhookEndpointAsync(
            new CreateWebhookEndpointRequest { Url = "https://hooks.example.com/x", EventTypes = { "post.published", "post.nope" } }, user.Headers).ResponseAsync,
            "event_types[1]");
        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { Url = "https://hooks.example.com/x" }, user.Headers);
        await Expect.BadFields(() => fixture.Webhooks.UpdateWebhookEndpointAsync(new UpdateWebhookEndpointRequest
        {
            Endpoint = new WebhookEndpoint { Id = created.Endpoint.Id, Url = "gopher://hooks.example.com" },
        }, user.Headers).ResponseAsync, "endpoint.url");
    }

    [Fact]
    public void Without_the_insecure_setting_only_https_to_a_public_host_is_an_endpoint()
    {
        string[] refused =
        [
            "http://hooks.example.com/x", "https://127.0.0.1/x", "https://localhost/x", "https://10.1.2.3/x", "https://169.254.169.254/latest",
            "https://[::1]/x", "https://a.localhost/x",
        ];
        foreach (var url in refused)
        {
            var violations = new FieldViolations();
            WebhookRules.CheckUrl(url, "url", allowInsecure: false, violations);
            Assert.True(violations.Any, $"{url} was accepted");
            Assert.Equal("url", Assert.Single(violations.All).Field);
        }
        var accepted = new FieldViolations();
        WebhookRules.CheckUrl("https://hooks.example.com/socialsync?team=1", "url", allowInsecure: false, accepted);
        WebhookRules.CheckUrl("http://127.0.0.1:8080/x", "url", allowInsecure: true, accepted);
        Assert.False(accepted.Any);
    }

    [Fact]
    public async Task Redeliver_sends_the_same_webhook_id_and_body_again_and_a_filter_keeps_other_types_out()
    {
        await using var receiver = WebhookReceiver.Start();
        var user = fixture.NewUser();
        var created = await fixture.Webhooks.CreateWebhookEndpointAsync(
            new CreateWebhookEndpointRequest { Url = receiver.Url, EventTypes = { "post.cancelled" } }, user.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel);
        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id }, user.Headers);
        var first = (await receiver.UntilAsync(r => r.Count >= 1, "the cancellation"))[0];
        Assert.Equal("post.cancelled", Type(first));
        await Task.Delay(500);
        Assert.Single(receiver.Received);

        await fixture.Webhooks.RedeliverWebhookAsync(new RedeliverWebhookRequest { EndpointId = created.Endpoint.Id, EventId = first.Id }, user.Headers);
        var again = (await receiver.UntilAsync(r => r.Count >= 2, "the redelivery"))[1];
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.Body, again.Body);
        Assert.True(StandardWebhooksVerifier.Verifies(again, created.Secret));
        var log = await fixture.Webhooks.ListWebhookDeliveriesAsync(new ListWebhookDeliveriesRequest { EndpointId = created.Endpoint.Id }, user.Headers);
        Assert.Equal([2, 1], log.Attempts.Select(a => a.Attempt));
        Assert.All(log.Attempts, a => Assert.Equal((first.Id, "post.cancelled", 200), (a.EventId, a.EventType, a.HttpStatus)));
        await Expect.Status(StatusCode.NotFound, () => fixture.Webhooks.RedeliverWebhookAsync(
            new RedeliverWebhookRequest { EndpointId = created.Endpoint.Id, EventId = "evt_0" }, user.Headers).ResponseAsync);
    }

    private static string Type(ReceivedWebhook webhook) => JsonDocument.Parse(webhook.Body).RootElement.GetProperty("type").GetString()!;

    private async Task<List<long>> PostChangeIdsAsync(Guid workspaceId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var query = new Npgsql.NpgsqlCommand("select id from post_changes where workspace_id = @w order by id", connection);
        query.Parameters.AddWithValue("w", workspaceId);
        var ids = new List<long>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }
        return ids;
    }
}

/// <summary>The default retry schedule and disabling rule (docs/webhooks.md, "Delivery, retries and disabling").</summary>
public sealed class WebhookScheduleTests
{
    [Fact]
    public void The_default_schedule_retries_for_about_3_days_and_disables_a_silent_endpoint_by_its_first_events_last_attempt()
    {
        var options = new WebhookOptions();
        var longest = Enumerable.Range(1, 20).Select(n => WebhookRules.NextDelay(options, n, 0)).TakeWhile(d => d is not null).ToList();
        var shortest = Enumerable.Range(1, 20).Select(n => WebhookRules.NextDelay(options, n, 0.999999)).TakeWhile(d => d is not null).ToList();
        Assert.Equal(9, longest.Count);
        Assert.InRange(longest.Aggregate(TimeSpan.Zero, (sum, d) => sum + d!.Value), TimeSpan.FromHours(70), TimeSpan.FromHours(72));
        // 10 attempts of one event, the last even with the most jitter after the span: a silent endpoint is disabled by it.
        Assert.True(longest.Count + 1 >= options.DisableAfterFailures);
        Assert.True(shortest.Aggregate(TimeSpan.Zero, (sum, d) => sum + d!.Value) > options.DisableAfterFailingFor);
        Assert.Null(WebhookRules.NextDelay(options, 0, 0));
    }
}
