using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>A WhatsApp post to several recipients, when the publisher dies midway.</summary>
[Collection(ShortLeaseSystem.Name)]
public sealed class WhatsAppRecipientTests(ShortLeaseSystemFixture fixture)
{
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_publisher_killed_after_the_first_of_three_recipients_is_retried_to_the_other_two_only()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        string[] recipients = ["+16505550001", "+16505550002", "+16505550003"];
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.ResendOnce, recipients);
        // The send to the second recipient hangs (and is never applied): the publisher is killed while it waits.
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account, recipient = recipients[1] }, drop = "before", delayMs = 60_000, times = 1 });

        var post = await user.PostAsync(channel, "to three people");
        await Polling.UntilAsync(() => SentKeysAsync(post), sent => sent.Contains($"{recipients[0]}#0"), TimeSpan.FromSeconds(30),
            "the first recipient's wamid to be saved while the second send hangs");
        System.Publisher.Kill();
        await System.Publisher.StartAsync();

        var finished = await user.FinishedAsync(post);

        Assert.Equal(PostStatus.Published, finished.Status);
        var messages = await user.EffectsAsync(account, "whatsapp_message");
        Assert.Equal([1, 1, 1], recipients.Select(r => messages.Count(m => m.GetProperty("to").GetString() == r)));
        var sends = await user.RequestsAsync(account, "wa_send");
        Assert.Equal(1, sends.Count(s => s.GetProperty("recipient").GetString() == recipients[0]));
        Assert.True((await user.RunsAsync(post)).Count >= 2, "the post was published by a later attempt");
    }

    private async Task<List<string>> SentKeysAsync(ScheduledPost post)
    {
        await using var db = new NpgsqlConnection(System.PostsConnectionString);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand(
            "select coalesce(array(select jsonb_object_keys(platform_state->'sent')), '{}') from scheduled_posts where id = @id", db);
        query.Parameters.AddWithValue("id", Guid.Parse(post.Id));
        return [.. (string[])(await query.ExecuteScalarAsync())!];
    }
}
