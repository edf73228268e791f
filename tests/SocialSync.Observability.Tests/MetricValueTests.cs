using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Observability.Tests;

/// <summary>
/// The counters and the lateness histogram say what a run did: a known mix of posts (plain, retried once, refused
/// for good) is published through the running system, then PostsService's and PublisherService's metrics are scraped
/// and compared with the posts' own records.
/// </summary>
public sealed class MetricValueTests
{
    [Fact]
    public async Task Counters_and_the_lateness_histogram_match_what_the_run_did()
    {
        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions
        {
            Settings = new Dictionary<string, string?>
            {
                ["Telemetry__PrometheusEndpoint"] = "true",
                ["Retry__BaseDelay"] = "00:00:01",
            },
        });
        var plain = await TestChannel.CreateAsync(system);
        var flaky = await TestChannel.CreateAsync(system);
        var refused = await TestChannel.CreateAsync(system);
        await system.Emulator.AddFaultAsync(new { match = new { account = flaky.AccountId }, code = 131000, times = 1 });
        await system.Emulator.AddFaultAsync(new { match = new { account = refused.AccountId }, code = 131026, times = 0 });

        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var plainPosts = new List<ScheduledPost>();
        for (var i = 0; i < 3; i++)
        {
            plainPosts.Add(await plain.PostAsync($"plain {i}", at));
        }
        var flakyPost = await flaky.PostAsync("retried once", at);
        var refusedPost = await refused.PostAsync("refused for good", at);

        var published = new List<ScheduledPost>();
        foreach (var post in plainPosts)
        {
            published.Add(await plain.UntilStatusAsync(post.Id, PostStatus.Published));
        }
        published.Add(await flaky.UntilStatusAsync(flakyPost.Id, PostStatus.Published));
        await refused.UntilStatusAsync(refusedPost.Id, PostStatus.Failed);

        var posts = await PrometheusText.ScrapeAsync(system.Posts);
        Assert.Equal(5, posts.Sum("socialsync_posts_created_total"));
        Assert.Equal(4, posts.Sum("socialsync_posts_published_total", ("platform", "whatsapp")));
        Assert.Equal(1, posts.Sum("socialsync_posts_retried_total", ("error_class", "transient")));
        Assert.Equal(1, posts.Sum("socialsync_posts_failed_total", ("error_class", "permanent")));
        // Six attempts: three plain, two for the retried post, one refused.
        Assert.Equal(6, posts.Sum("socialsync_posts_outcomes_total"));
        Assert.Equal(1, posts.Sum("socialsync_posts_outcomes_total", ("outcome", "transient_failure")));
        Assert.Equal(1, posts.Sum("socialsync_posts_outcomes_total", ("outcome", "permanent_failure")));

        // One lateness sample per published post, summing to the lateness their records show.
        var latenesses = published.Select(p => (p.PublishedAt.ToDateTimeOffset() - p.PublishAt.ToDateTimeOffset()).TotalSeconds).ToList();
        var lateness = latenesses.Sum();
        Assert.Equal(4, posts.Sum("socialsync_posts_publish_lateness_seconds_count"));
        Assert.InRange(posts.Sum("socialsync_posts_publish_lateness_seconds_sum"), lateness - 0.05, lateness + 0.05);
        // Each bucket holds exactly the posts whose recorded lateness is within its bound.
        foreach (var bound in new[] { 0.5, 1, 2, 5, 10, 30 })
        {
            Assert.True(latenesses.Count(l => l <= bound) == posts.Bucket("socialsync_posts_publish_lateness_seconds", bound),
                $"bucket le={bound}: the records say {latenesses.Count(l => l <= bound)} of [{string.Join(", ", latenesses)}]");
        }

        var publisher = await PrometheusText.ScrapeAsync(system.Publisher);
        Assert.Equal(4, publisher.Sum("socialsync_publisher_outcomes_total", ("outcome", "published")));
        Assert.Equal(1, publisher.Sum("socialsync_publisher_outcomes_total", ("outcome", "transient_failure")));
        Assert.Equal(1, publisher.Sum("socialsync_publisher_outcomes_total", ("outcome", "permanent_failure")));

        // The shipped Prometheus rules use only series that PostsService exports under these names.
        var rules = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "deploy", "prometheus", "alerts.yml"));
        var used = System.Text.RegularExpressions.Regex.Matches(rules, @"\bsocialsync_[a-z_]+").Select(m => m.Value).Distinct().ToList();
        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.Contains($"\n{name}{{", "\n" + posts.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_backlog_gauges_count_queued_overdue_and_publishing_posts_and_the_outbox()
    {
        // No scheduler: nothing claims a due post or relays the outbox, so every figure holds still once sampled.
        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions
        {
            SchedulerReplicas = 0,
            Settings = new Dictionary<string, string?>
            {
                ["Telemetry__PrometheusEndpoint"] = "true",
                ["Telemetry__GaugeInterval"] = "00:00:01",
            },
        });
        var channel = await TestChannel.CreateAsync(system);
        for (var i = 0; i < 2; i++)
        {
            await channel.PostAsync($"due soon {i}", DateTimeOffset.UtcNow.AddSeconds(2));
        }
        for (var i = 0; i < 3; i++)
        {
            await channel.PostAsync($"tomorrow {i}", DateTimeOffset.UtcNow.AddDays(1));
        }

        var gauges = await Polling.UntilAsync(() => PrometheusText.ScrapeAsync(system.Posts),
            scrape => scrape.Sum("socialsync_posts_due_not_dispatched") == 2, TimeSpan.FromSeconds(60),
            "the two posts due soon to be counted as due and not dispatched");
        Assert.Equal(5, gauges.Sum("socialsync_posts_queued"));
        Assert.Equal(0, gauges.Sum("socialsync_posts_publishing"));
        // One schedule change per create, none relayed.
        Assert.Equal(5, gauges.Sum("socialsync_outbox_pending"));
        Assert.True(gauges.Sum("socialsync_outbox_oldest_age_seconds") > 0);
    }
}
