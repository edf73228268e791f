using System.Text.Json;
using SocialSync.PublisherService.Platforms;
using V1 = SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Tests;

/// <summary>The Instagram publisher against the Graph API emulator: every content type, the container flow, the quota, and reconciliation.</summary>
public sealed class InstagramPublisherTests(EmulatorFixture fixture) : IClassFixture<EmulatorFixture>, IDisposable
{
    private const string Jpg = "https://cdn.test/photo.jpg";
    private const string Mp4 = "https://cdn.test/clip.mp4";
    private readonly InstagramHarness _ig = new(fixture.Emulator);

    public void Dispose() => _ig.Dispose();

    [Fact]
    public async Task A_feed_image_is_published_once_and_its_container_is_saved_before_publishing()
    {
        var account = InstagramHarness.NewAccount();
        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "Sunset #beach", [(V1.MediaType.Image, Jpg)]));

        var published = Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal(media.GetProperty("media_id").GetString(), published.PlatformPostId);
        Assert.Equal("IMAGE", media.GetProperty("media_type").GetString());
        Assert.Equal("Sunset #beach", media.GetProperty("caption").GetString());
        Assert.Equal(media.GetProperty("permalink").GetString(), published.Permalink);

        var saved = _ig.Store.Saved.Select(s => JsonDocument.Parse(s).RootElement).ToList();
        Assert.True(saved.Count >= 2, "the container id and then the media id are saved");
        Assert.Equal(media.GetProperty("container_id").GetString(), saved[0].GetProperty("container_id").GetString());
        Assert.False(saved[0].TryGetProperty("media_id", out _), "the container is saved before media_publish");
        Assert.Equal(published.PlatformPostId, saved[^1].GetProperty("media_id").GetString());
    }

    [Fact]
    public async Task A_single_feed_video_is_published_as_a_reel()
    {
        var account = InstagramHarness.NewAccount();
        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "Clip", [(V1.MediaType.Video, Mp4)]));

        Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal("REELS", media.GetProperty("media_type").GetString());
        Assert.Equal("REELS", media.GetProperty("media_product_type").GetString());
    }

    [Fact]
    public async Task A_carousel_creates_its_parent_only_after_every_item_finished_processing()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.ConfigureAccountAsync(account, new { processingDelayMs = 900, imageProcessingDelayMs = 400 });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "Album",
            [(V1.MediaType.Image, "https://cdn.test/1.jpg"), (V1.MediaType.Video, "https://cdn.test/2.mp4"), (V1.MediaType.Image, "https://cdn.test/3.jpg")]));

        Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal("CAROUSEL", media.GetProperty("media_type").GetString());
        var children = media.GetProperty("children").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal(3, children.Count);

        var containers = await _ig.ContainersAsync(account);
        var creates = await _ig.RequestsAsync(account, "ig_create_media");
        var parentCreate = creates.Single(r => r.GetProperty("body").GetRawText().Contains("CAROUSEL", StringComparison.Ordinal));
        var parentCreatedAt = parentCreate.GetProperty("time").GetDateTimeOffset();
        foreach (var child in containers.Where(c => c.GetProperty("is_carousel_item").GetBoolean()))
        {
            var isVideo = child.GetProperty("media_type").GetString() == "VIDEO";
            var readyAt = child.GetProperty("created_at").GetDateTimeOffset().AddMilliseconds(isVideo ? 900 : 400);
            Assert.True(parentCreatedAt >= readyAt, $"the carousel was created at {parentCreatedAt:O}, before item {child.GetProperty("id")} was ready at {readyAt:O}");
        }
    }

    [Fact]
    public async Task A_reel_is_one_video_published_as_reels()
    {
        var account = InstagramHarness.NewAccount();
        Assert.IsType<PublishedResult>(await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Reel, "Reel", [(V1.MediaType.Video, Mp4)])));
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal("REELS", media.GetProperty("media_product_type").GetString());
        Assert.Equal(Mp4, media.GetProperty("link").GetString());
    }

    [Theory]
    [InlineData(V1.MediaType.Image, Jpg)]
    [InlineData(V1.MediaType.Video, Mp4)]
    public async Task A_story_is_published_from_an_image_or_a_video(V1.MediaType type, string url)
    {
        var account = InstagramHarness.NewAccount();
        Assert.IsType<PublishedResult>(await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Story, "", [(type, url)])));
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal("STORY", media.GetProperty("media_product_type").GetString());
        Assert.Equal(url, media.GetProperty("link").GetString());
    }

    [Fact]
    public async Task A_direct_message_goes_to_the_channel_recipient_inside_the_window()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.ConfigureAccountAsync(account, new { dmWindowOpenFor = new[] { "IGSID-open" } });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.DirectMessage, "Hello there", [], recipient: "IGSID-open"));

        var published = Assert.IsType<PublishedResult>(result);
        var dm = Assert.Single(await _ig.EffectsAsync(account, "instagram_dm"));
        Assert.Equal("IGSID-open", dm.GetProperty("recipient_id").GetString());
        Assert.Equal("Hello there", dm.GetProperty("text").GetString());
        Assert.Equal(dm.GetProperty("message_id").GetString(), published.PlatformPostId);
    }

    [Fact]
    public async Task A_direct_message_outside_the_window_fails_permanently_with_metas_code()
    {
        var account = InstagramHarness.NewAccount();
        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.DirectMessage, "Hello", [], recipient: "IGSID-closed"));

        var failed = Assert.IsType<FailedResult>(result);
        Assert.Equal((ErrorClass.Permanent, 10, (int?)2534022), (failed.ErrorClass, failed.Code, failed.Subcode));
        Assert.Empty(await _ig.EffectsAsync(account, "instagram_dm"));
    }

    [Fact]
    public async Task A_used_up_publishing_quota_defers_the_post_and_the_finished_container_is_reused_later()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.ConfigureAccountAsync(account, new { quotaTotal = 1 });
        Assert.IsType<PublishedResult>(await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "first", [(V1.MediaType.Image, Jpg)])));

        var before = DateTimeOffset.UtcNow;
        var second = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "second", [(V1.MediaType.Image, Jpg)]));

        var deferred = Assert.IsType<FailedResult>(second);
        Assert.Equal(ErrorClass.RateLimited, deferred.ErrorClass);
        Assert.Equal((9, (int?)2207042), (deferred.Code, deferred.Subcode));
        Assert.NotNull(deferred.RetryAt);
        Assert.InRange(deferred.RetryAt!.Value, before.AddMinutes(29), DateTimeOffset.UtcNow.AddMinutes(31));
        Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Single(await _ig.RequestsAsync(account, "ig_publish")); // the deferred post never called media_publish

        await _ig.Emulator.ConfigureAccountAsync(account, new { quotaTotal = 5 });
        var later = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "second", [(V1.MediaType.Image, Jpg)], state: deferred.StateJson!));

        Assert.IsType<PublishedResult>(later);
        Assert.Equal(2, (await _ig.EffectsAsync(account, "instagram_media")).Count);
        Assert.Equal(2, (await _ig.ContainersAsync(account)).Count);
    }

    [Fact]
    public async Task A_container_that_ends_in_error_fails_by_its_subcode_and_publishes_nothing()
    {
        var account = InstagramHarness.NewAccount();
        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Reel, "bad codec",
            [(V1.MediaType.Video, "https://cdn.test/clip.mp4?emu_error=2207026")]));

        var failed = Assert.IsType<FailedResult>(result);
        Assert.Equal((ErrorClass.Permanent, 352, (int?)2207026), (failed.ErrorClass, failed.Code, failed.Subcode));
        Assert.Empty(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Empty(await _ig.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task A_container_still_processing_after_the_budget_is_a_transient_failure_that_keeps_the_container()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.ConfigureAccountAsync(account, new { processingDelayMs = -1 });
        using var shortBudget = new InstagramHarness(_ig.Emulator, TimeSpan.FromSeconds(1));

        var result = await shortBudget.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Reel, "slow", [(V1.MediaType.Video, Mp4)]));

        var failed = Assert.IsType<FailedResult>(result);
        Assert.Equal(ErrorClass.Transient, failed.ErrorClass);
        var container = Assert.Single(await _ig.ContainersAsync(account));
        Assert.Equal(container.GetProperty("id").GetString(), JsonDocument.Parse(failed.StateJson!).RootElement.GetProperty("container_id").GetString());
        Assert.Empty(await _ig.RequestsAsync(account, "ig_publish"));
        var polls = (await _ig.RequestsAsync(account, "get_object")).Count;
        Assert.True(polls >= 3, $"the container was polled {polls} times within its budget");
    }

    [Fact]
    public async Task Commit_then_drop_on_media_publish_ends_published_exactly_once()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "POST", pathRegex = "media_publish", account }, drop = "after_commit" });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "once", [(V1.MediaType.Image, Jpg)]));

        var published = Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal(media.GetProperty("container_id").GetString(), published.PlatformPostId);
        Assert.Single(await _ig.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task Commit_then_drop_with_the_container_unreadable_is_reconciled_by_the_next_attempt_without_a_second_post()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "POST", pathRegex = "media_publish", account }, drop = "after_commit" });
        // The first container read (the poll) passes; every read after the lost publish fails, as in a Meta incident.
        const string containerPath = "^/v[0-9.]+/179[0-9]+$";
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "GET", account, pathRegex = containerPath }, delayMs = 1, times = 1 });
        var readFault = await _ig.Emulator.AddFaultAsync(new { match = new { method = "GET", account, pathRegex = containerPath }, code = 2, status = 503, isTransient = true, times = 0 });

        var first = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "once", [(V1.MediaType.Image, Jpg)]));

        var failed = Assert.IsType<FailedResult>(first);
        Assert.Equal(ErrorClass.Transient, failed.ErrorClass);
        Assert.Single(await _ig.EffectsAsync(account, "instagram_media")); // the lost publish did happen
        Assert.Equal("after_commit", Assert.Single(await _ig.RequestsAsync(account, "ig_publish")).GetProperty("dropped").GetString());

        await _ig.Emulator.Http.DeleteAsync($"/__emu/faults/{readFault}");
        var second = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "once", [(V1.MediaType.Image, Jpg)],
            state: failed.StateJson!, reconcile: true));

        Assert.IsType<PublishedResult>(second);
        Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Single(await _ig.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task Reconciling_a_published_container_records_success_without_publishing_again()
    {
        var account = InstagramHarness.NewAccount();
        var first = Assert.IsType<PublishedResult>(await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)])));
        // A crash after media_publish but before the media id was saved: only the container id survives.
        var containerOnly = JsonSerializer.Serialize(new { container_id = JsonDocument.Parse(first.StateJson!).RootElement.GetProperty("container_id").GetString() });

        var again = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)], state: containerOnly, reconcile: true));

        Assert.IsType<PublishedResult>(again);
        Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Single(await _ig.RequestsAsync(account, "ig_publish"));
        Assert.Single(await _ig.RequestsAsync(account, "ig_create_media"));
    }

    [Fact]
    public async Task Reconciling_a_finished_container_publishes_it_once()
    {
        var account = InstagramHarness.NewAccount();
        var containerId = await _ig.CreateContainerAsync(account, new { image_url = Jpg, caption = "made earlier" });
        var state = JsonSerializer.Serialize(new { container_id = containerId });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "made earlier", [(V1.MediaType.Image, Jpg)], state: state, reconcile: true));

        Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Equal(containerId, media.GetProperty("container_id").GetString());
        Assert.Single(await _ig.ContainersAsync(account));
    }

    [Fact]
    public async Task Reconciling_a_failed_container_makes_a_new_one()
    {
        var account = InstagramHarness.NewAccount();
        var containerId = await _ig.CreateContainerAsync(account, new { image_url = Jpg });
        (await _ig.Emulator.Http.PutAsync($"/__emu/containers/{containerId}",
            new StringContent("""{"statusCode":"ERROR","errorSubcode":2207053}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "retry", [(V1.MediaType.Image, Jpg)],
            state: JsonSerializer.Serialize(new { container_id = containerId }), reconcile: true));

        Assert.IsType<PublishedResult>(result);
        var media = Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.NotEqual(containerId, media.GetProperty("container_id").GetString());
    }

    [Fact]
    public async Task A_container_that_cannot_be_recorded_is_never_published()
    {
        var account = InstagramHarness.NewAccount();
        _ig.Store.Refuse = true;

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)]));

        Assert.Equal(ErrorClass.Transient, Assert.IsType<FailedResult>(result).ErrorClass);
        Assert.Empty(await _ig.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task A_failed_permalink_read_does_not_fail_or_repeat_the_publish()
    {
        var account = InstagramHarness.NewAccount();
        // Media ids start with 18, container ids with 17: only the permalink read fails.
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "GET", account, pathRegex = "^/v[0-9.]+/18" }, code = 1, status = 500, isTransient = true, times = 0 });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)]));

        var published = Assert.IsType<PublishedResult>(result);
        Assert.Null(published.Permalink);
        Assert.StartsWith("18", published.PlatformPostId, StringComparison.Ordinal);
        Assert.Single(await _ig.EffectsAsync(account, "instagram_media"));
        Assert.Single(await _ig.RequestsAsync(account, "ig_publish"));
    }

    [Fact]
    public async Task A_rate_limit_carries_metas_time_to_regain_access()
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, preset = "ig_rate_limit", estimatedTimeToRegainAccessMinutes = 7 });

        var before = DateTimeOffset.UtcNow;
        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)]));

        var failed = Assert.IsType<FailedResult>(result);
        Assert.Equal((ErrorClass.RateLimited, 80002), (failed.ErrorClass, failed.Code));
        Assert.InRange(failed.RetryAt!.Value, before.AddMinutes(7), DateTimeOffset.UtcNow.AddMinutes(7).AddSeconds(1));
    }

    [Theory]
    [InlineData(429, 100, ErrorClass.Permanent)]
    [InlineData(400, 130429, ErrorClass.RateLimited)]
    [InlineData(400, 190, ErrorClass.Auth)]
    [InlineData(500, 131000, ErrorClass.Transient)]
    public async Task Errors_are_classified_by_metas_code_not_the_http_status(int status, int code, ErrorClass expected)
    {
        var account = InstagramHarness.NewAccount();
        await _ig.Emulator.AddFaultAsync(new { match = new { method = "POST", account }, code, status });

        var result = await _ig.PublishAsync(InstagramHarness.Job(account, V1.InstagramMode.Feed, "x", [(V1.MediaType.Image, Jpg)]));

        Assert.Equal(expected, Assert.IsType<FailedResult>(result).ErrorClass);
    }
}
