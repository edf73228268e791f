using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The system with Meta's status webhooks and a reconciliation window of a few seconds.</summary>
public sealed class ReconciliationSystemFixture : IAsyncLifetime
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(3);

    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        MetaWebhooks = true,
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Deliveries__ReconciliationWindow"] = Window.ToString(),
            ["Deliveries__CheckInterval"] = "00:00:00.500",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>
/// An unconfirmed WhatsApp post that no status arrives for is sent once more after the reconciliation window, and
/// never a second time; one that any status arrived for is not.
/// </summary>
public sealed class DeliveryReconciliationTests(ReconciliationSystemFixture fixture) : IClassFixture<ReconciliationSystemFixture>
{
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_commit_then_drop_whatsapp_send_with_no_status_is_resent_once_and_then_published()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 1 });
        // Meta never reports the first message; the resent one is reported as usual.
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account }, never = true, times = 1 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.UntilAsync(await user.PostAsync(channel, "resent once"), p => p.Status == PostStatus.Published, "the resent post to be published");

        var messages = await user.EffectsAsync(account, "whatsapp_message");
        Assert.Equal(2, messages.Count);
        Assert.Equal(messages[1].GetProperty("wamid").GetString(), post.PlatformPostId);
        Assert.Equal(["unconfirmed", "success"], (await user.RunsAsync(post)).OrderBy(r => r.Attempt).Select(r => r.Status));
        Assert.Equal($"socialsync:{post.Id}:2:+16505551234#0", messages[1].GetProperty("biz_opaque_callback_data").GetString());
    }

    [Fact]
    public async Task A_resend_whose_answer_is_lost_too_stays_unconfirmed_and_is_never_sent_a_third_time()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 0 });
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account }, never = true });
        var channel = await user.WhatsAppChannelAsync(account);
        var post = await user.PostAsync(channel, "at most twice");

        await Polling.UntilAsync(() => user.EffectsAsync(account, "whatsapp_message"), m => m.Count == 2, TimeSpan.FromSeconds(60), "the one resend");
        await Polling.UntilAsync(() => user.RunsAsync(post), r => r.Count(x => x.Status == "unconfirmed") == 2, TimeSpan.FromSeconds(30),
            "both attempts to end unconfirmed");
        await Task.Delay(ReconciliationSystemFixture.Window * 3);

        Assert.Equal(2, (await user.EffectsAsync(account, "whatsapp_message")).Count);
        Assert.Equal(PostStatus.Unconfirmed, (await user.GetAsync(post)).Status);
    }

    [Fact]
    public async Task An_unconfirmed_post_with_a_status_for_its_attempt_is_not_resent()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        // Two recipients: the first message is answered and reported; the second's answer is lost and its status never
        // comes. A status for the attempt arrived, so the webhooks work and the lost send may have gone out: not resent.
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account, recipient = "+16505559876" }, drop = "after_commit", times = 1 });
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account, recipient = "+16505559876" }, never = true });
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, "+16505551234", "+16505559876");

        var post = await user.FinishedAsync(await user.PostAsync(channel, "one of two reported"));
        await Deliveries.UntilAsync(System, post, r => r.Count == 1, "the first recipient's statuses");
        await Task.Delay(ReconciliationSystemFixture.Window * 2);

        Assert.Equal(PostStatus.Unconfirmed, (await user.GetAsync(post)).Status);
        Assert.Equal(2, (await user.EffectsAsync(account, "whatsapp_message")).Count);
    }
}
