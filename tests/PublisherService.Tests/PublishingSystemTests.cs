using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// Outcome paths through the whole system: scheduler → publisher → emulator → PostsService, with each test on its
/// own user, channel and emulator account, so effects are counted per account.
/// </summary>
public sealed class PublishingSystemTests(SystemFixture fixture) : IClassFixture<SystemFixture>
{
    private const string Jpg = "https://cdn.test/photo.jpg";
    private const string Mp4 = "https://cdn.test/clip.mp4";
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task WhatsApp_media_to_two_recipients_sends_every_message_once_with_the_caption_first()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, "+16505551234", "+16505559876");

        var post = await user.FinishedAsync(await user.PostAsync(channel, "Two pictures", (MediaType.Image, Jpg), (MediaType.Video, Mp4)));

        Assert.Equal(PostStatus.Published, post.Status);
        Assert.StartsWith("wamid.", post.PlatformPostId, StringComparison.Ordinal);
        var messages = await user.EffectsAsync(account, "whatsapp_message");
        Assert.Equal(4, messages.Count);
        foreach (var recipient in new[] { "16505551234", "16505559876" })
        {
            var mine = messages.Where(m => m.GetProperty("to").GetString()!.Contains(recipient, StringComparison.Ordinal)).ToList();
            Assert.Equal(["image", "video"], mine.Select(m => m.GetProperty("type").GetString()));
            Assert.Equal("Two pictures", mine[0].GetProperty("caption").GetString());
        }
    }

    [Fact]
    public async Task A_whatsapp_post_with_its_own_recipients_reaches_exactly_those_and_not_the_channels()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, "+16505551234");
        string[] own = ["+447700900123", "+4915112345678"];

        var created = await System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "just for you two" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(1)),
            Recipients = { own },
        }, user.Auth);
        var post = await user.FinishedAsync(created);

        Assert.Equal(own, created.Recipients);
        Assert.Equal(PostStatus.Published, post.Status);
        var messages = await user.EffectsAsync(account, "whatsapp_message");
        Assert.Equal(own.Order(), messages.Select(m => m.GetProperty("to").GetString()!).Order());
    }

    [Fact]
    public async Task An_instagram_carousel_is_published_once_with_its_permalink()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        var channel = await user.InstagramChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "Album #one", (MediaType.Image, Jpg), (MediaType.Video, Mp4), (MediaType.Image, Jpg)));

        Assert.Equal(PostStatus.Published, post.Status);
        var media = Assert.Single(await user.EffectsAsync(account, "instagram_media"));
        Assert.Equal("CAROUSEL", media.GetProperty("media_type").GetString());
        Assert.Equal(media.GetProperty("media_id").GetString(), post.PlatformPostId);
        Assert.Equal(media.GetProperty("permalink").GetString(), post.Permalink);
    }

    [Fact]
    public async Task An_instagram_story_and_a_reel_are_published_on_their_channels()
    {
        var user = new TestUser(System);
        var storyAccount = TestUser.NewInstagramId();
        var reelAccount = TestUser.NewInstagramId();
        var story = await user.PostAsync(await user.InstagramChannelAsync(storyAccount, InstagramMode.Story), "", (MediaType.Image, Jpg));
        var reel = await user.PostAsync(await user.InstagramChannelAsync(reelAccount, InstagramMode.Reel), "Reel", (MediaType.Video, Mp4));

        Assert.Equal(PostStatus.Published, (await user.FinishedAsync(story)).Status);
        Assert.Equal(PostStatus.Published, (await user.FinishedAsync(reel)).Status);
        Assert.Equal("STORY", Assert.Single(await user.EffectsAsync(storyAccount, "instagram_media")).GetProperty("media_product_type").GetString());
        Assert.Equal("REELS", Assert.Single(await user.EffectsAsync(reelAccount, "instagram_media")).GetProperty("media_product_type").GetString());
    }

    [Fact]
    public async Task A_transient_error_is_retried_with_back_off_and_then_published()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, code = 131000, status = 500, isTransient = true, times = 1 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "retry me"));

        Assert.Equal(PostStatus.Published, post.Status);
        Assert.Equal(1, post.RetryCount);
        var runs = await user.RunsAsync(post);
        var failed = Assert.Single(runs, r => r.Status == "failed");
        Assert.Equal(("transient", 131000), (failed.ErrorClass, failed.ErrorCode));
        Assert.Single(runs, r => r.Status == "success");
        Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
    }

    [Fact]
    public async Task A_rate_limit_defers_the_post_without_using_a_retry()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, preset = "wa_throughput", retryAfterSeconds = 2, times = 1 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "slow down"));

        Assert.Equal(PostStatus.Published, post.Status);
        Assert.Equal(0, post.RetryCount);
        var runs = await user.RunsAsync(post);
        var deferred = Assert.Single(runs, r => r.Status == "deferred");
        Assert.Equal(("rate_limited", 130429), (deferred.ErrorClass, deferred.ErrorCode));
        Assert.True(deferred.FinishedAt.ToDateTimeOffset().AddSeconds(2) <= runs.Single(r => r.Status == "success").StartedAt.ToDateTimeOffset().AddMilliseconds(100),
            "the next attempt waited for Retry-After");
    }

    [Theory]
    [InlineData(131026, "permanent")]
    [InlineData(987654, "permanent")] // unknown codes are permanent
    public async Task A_permanent_error_fails_the_post_at_once_with_the_code_and_metas_message(int code, string errorClass)
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, code, status = 400, times = 0 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "undeliverable"));

        Assert.Equal(PostStatus.Failed, post.Status);
        Assert.Equal(0, post.RetryCount);
        var run = Assert.Single(await user.RunsAsync(post));
        Assert.Equal((errorClass, code), (run.ErrorClass, run.ErrorCode));
        Assert.Contains($"Meta error {code}", run.Error, StringComparison.Ordinal);
        Assert.Contains(code.ToString(global::System.Globalization.CultureInfo.InvariantCulture), post.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_marks_the_channel_for_reconnect_and_later_posts_are_held_not_burned()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        const string token = "IGQ-expired-token";
        await System.Emulator.ConfigureAccountAsync(account, new { expiredTokens = new[] { token } });
        var channel = await user.ChannelAsync(Platform.Instagram, account, new ChannelSettings { InstagramMode = InstagramMode.Feed }, token);

        var created = await user.PostAsync(channel, "first", (MediaType.Image, Jpg));
        await Polling.UntilAsync(() => user.RunsAsync(created), runs => runs.Any(r => r.Status != "running"), TimeSpan.FromSeconds(60), "the first attempt");
        await Polling.UntilAsync(() => user.ChannelStateAsync(channel), c => c.State == ChannelState.NeedsReconnect, TimeSpan.FromSeconds(10),
            "the channel flagged");
        var first = await user.GetAsync(created);

        // The post that met the expired token is held like the later ones, not failed: the token is the channel's problem.
        Assert.Equal(PostStatus.Queued, first.Status);
        Assert.Equal(0, first.RetryCount);
        Assert.Contains("reconnect", first.ErrorMessage, StringComparison.OrdinalIgnoreCase);
        var run = Assert.Single(await user.RunsAsync(first));
        Assert.Equal(("auth", 190), (run.ErrorClass, run.ErrorCode));
        Assert.Equal(ChannelState.NeedsReconnect, (await user.ChannelStateAsync(channel)).State);
        // The insights fetcher may read the account's online_followers at any moment; only the publishing calls count.
        var requestsAfterFirst = (await user.RequestsAsync(account)).Count(r => r.GetProperty("operation").GetString() != "ig_insights");

        var second = await user.PostAsync(channel, "second", (MediaType.Image, Jpg));
        await Task.Delay(TimeSpan.FromSeconds(5));

        var held = await user.GetAsync(second);
        Assert.Equal(PostStatus.Queued, held.Status);
        Assert.Equal(0, held.RetryCount);
        Assert.True(held.PublishAt.ToDateTimeOffset() < DateTimeOffset.UtcNow, "the post was due and came up while the channel needed a reconnect");
        Assert.Empty(await user.RunsAsync(held));
        Assert.Equal(requestsAfterFirst, (await user.RequestsAsync(account)).Count(r => r.GetProperty("operation").GetString() != "ig_insights"));
        await using var db = new NpgsqlConnection(System.PostsConnectionString);
        await db.OpenAsync();
        await using var query = new NpgsqlCommand("select attempt, due_at = publish_at from scheduled_posts where id = @id", db);
        query.Parameters.AddWithValue("id", Guid.Parse(second.Id));
        await using var reader = await query.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(0, reader.GetInt32(0)); // never claimed: the channel keeps it out of the index
        Assert.True(reader.GetBoolean(1), "it waits at its own due time");
    }

    [Fact]
    public async Task A_used_up_instagram_quota_defers_the_post_until_the_quota_frees()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        await System.Emulator.ConfigureAccountAsync(account, new { quotaTotal = 0 });
        var channel = await user.InstagramChannelAsync(account);

        var post = await user.PostAsync(channel, "when there is room", (MediaType.Image, Jpg));
        await Polling.UntilAsync(() => user.RunsAsync(post), runs => runs.Any(r => r.Status == "deferred"), TimeSpan.FromSeconds(60), "a deferred run");

        var deferred = await user.GetAsync(post);
        Assert.Equal(PostStatus.Queued, deferred.Status);
        Assert.Equal(0, deferred.RetryCount);
        Assert.Contains("publishing limit", deferred.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(9, (await user.RunsAsync(post)).First(r => r.Status == "deferred").ErrorCode);
        Assert.Empty(await user.EffectsAsync(account, "instagram_media"));
        Assert.Empty(await user.RequestsAsync(account, "ig_publish"));

        await System.Emulator.ConfigureAccountAsync(account, new { quotaTotal = 25 });
        var published = await user.FinishedAsync(post);

        Assert.Equal(PostStatus.Published, published.Status);
        Assert.Equal(0, published.RetryCount);
        Assert.Single(await user.EffectsAsync(account, "instagram_media"));
    }

    [Fact]
    public async Task WhatsApp_commit_then_drop_ends_unconfirmed_with_exactly_one_message()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 0 });
        var channel = await user.WhatsAppChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "maybe sent"));

        Assert.Equal(PostStatus.Unconfirmed, post.Status);
        Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        Assert.Equal("unconfirmed", Assert.Single(await user.RunsAsync(post)).Status);
        Assert.Single(await user.RequestsAsync(account, "wa_send"));
    }

    [Fact]
    public async Task WhatsApp_resend_once_policy_resends_a_send_that_never_arrived()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, drop = "before", times = 1 });
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.ResendOnce);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "second time lucky"));

        Assert.Equal(PostStatus.Published, post.Status);
        Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        Assert.Equal(2, (await user.RequestsAsync(account, "wa_send")).Count);
    }

    [Fact]
    public async Task Instagram_commit_then_drop_on_publish_ends_published_exactly_once()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        await System.Emulator.AddFaultAsync(new { match = new { method = "POST", account, pathRegex = "media_publish" }, drop = "after_commit", times = 0 });
        var channel = await user.InstagramChannelAsync(account);

        var post = await user.FinishedAsync(await user.PostAsync(channel, "exactly once", (MediaType.Image, Jpg)));

        Assert.Equal(PostStatus.Published, post.Status);
        var media = Assert.Single(await user.EffectsAsync(account, "instagram_media"));
        Assert.Equal(media.GetProperty("container_id").GetString(), post.PlatformPostId);
        Assert.Single(await user.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task A_late_report_from_a_fenced_out_attempt_cannot_overwrite_the_newer_attempt()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.WhatsAppChannelAsync(account);
        var post = await user.FinishedAsync(await user.PostAsync(channel, "fenced"));
        Assert.Equal(PostStatus.Published, post.Status);

        // A newer claim (attempt 3) now holds the post, as after a lease expiry and two re-claims.
        await using (var db = new NpgsqlConnection(System.PostsConnectionString))
        {
            await db.OpenAsync();
            await using var claim = new NpgsqlCommand(
                "update scheduled_posts set status = 'publishing', attempt = 3, lease_expires_at = now() + interval '10 minutes' where id = @id", db);
            claim.Parameters.AddWithValue("id", Guid.Parse(post.Id));
            Assert.Equal(1, await claim.ExecuteNonQueryAsync());
        }
        var internalClient = new PostsInternalService.PostsInternalServiceClient(System.PostsChannel);
        var service = TestTokens.ForService();

        var stale = await internalClient.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes = { new PublishOutcome { PostId = post.Id, Attempt = 2, Kind = OutcomeKind.PermanentFailure, Error = "late", FinishedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) } },
        }, service);
        var startStale = await internalClient.StartRunsAsync(new StartRunsRequest { Runs = { new RunToStart { PostId = post.Id, Attempt = 2 } } }, service);
        var saveStale = await Assert.ThrowsAsync<RpcException>(async () =>
            await internalClient.SavePlatformStateAsync(new SavePlatformStateRequest { PostId = post.Id, Attempt = 2, PlatformStateJson = "{}" }, service));

        Assert.False(Assert.Single(stale.Results).Accepted);
        Assert.False(Assert.Single(startStale.Runs).Started);
        Assert.Equal(StatusCode.FailedPrecondition, saveStale.StatusCode);
        var untouched = await user.GetAsync(post);
        Assert.Equal(PostStatus.Publishing, untouched.Status);
        Assert.Equal("", untouched.ErrorMessage);

        var current = await internalClient.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes = { new PublishOutcome { PostId = post.Id, Attempt = 3, Kind = OutcomeKind.Published, PlatformPostId = post.PlatformPostId, FinishedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) } },
        }, service);
        Assert.True(Assert.Single(current.Results).Accepted);
        Assert.Equal(PostStatus.Published, (await user.GetAsync(post)).Status);
    }
}
