using Microsoft.Extensions.Logging.Abstractions;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.WhatsApp;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// What a reconciling WhatsApp attempt reports when an earlier attempt may have sent the post: unconfirmed, naming the
/// earlier attempt's send when that one send is all the post still lacks, so its status webhook can settle it.
/// </summary>
public sealed class WhatsAppReconciliationTests
{
    private const string PostId = "6a7b12d1-f55f-47ac-b477-f425aebb7e5a";

    [Fact]
    public async Task The_one_send_left_in_doubt_is_named_with_the_attempt_that_may_have_made_it()
    {
        var result = await ReconcileAsync(recipients: ["+16505551234", "+16505559876"], sent: """{"sent":{"+16505551234#0":"wamid.a"}}""");

        var unconfirmed = Assert.IsType<UnconfirmedResult>(result);
        Assert.Equal($"socialsync:{PostId}:3:+16505559876#0", unconfirmed.SendRef);
    }

    [Fact]
    public async Task Two_sends_still_missing_name_none_since_one_status_cannot_prove_the_post_complete()
    {
        var result = await ReconcileAsync(recipients: ["+16505551234", "+16505559876"], sent: "");

        Assert.Null(Assert.IsType<UnconfirmedResult>(result).SendRef);
    }

    private static async Task<PlatformResult?> ReconcileAsync(string[] recipients, string sent)
    {
        var publisher = new WhatsAppPublisher(null!, null!, NullLogger<WhatsAppPublisher>.Instance);
        var post = new ClaimedPost
        {
            PostId = PostId, Attempt = 5, Platform = Platform.Whatsapp, ChannelId = Guid.NewGuid().ToString(),
            Content = new Content { Text = "hello" }, NeedsReconciliation = true, InDoubtAttempt = 3, PlatformStateJson = sent,
            Recipients = { recipients },
        };
        var channel = new ChannelAccess { ChannelId = post.ChannelId, Platform = Platform.Whatsapp, AccountId = "1000000001000", Settings = new ChannelSettings() };
        return (await publisher.ReconcileAsync(new PublishJob(post, channel, Guid.NewGuid().ToString()), CancellationToken.None)).Result;
    }
}
