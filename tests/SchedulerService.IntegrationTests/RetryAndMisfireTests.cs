using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>Back-off, deferrals and the misfire window as the running system applies them (Retry__BaseDelay = 1 s).</summary>
[Collection(OneSchedulerCollection.Name)]
public sealed class RetryAndMisfireTests(OneSchedulerSystem fixture)
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task Transient_failures_are_retried_after_1_then_2_seconds_and_count_as_retries()
    {
        var account = await TestAccount.CreateAsync(System);
        await System.Emulator.AddFaultAsync(new { match = new { account = account.PhoneNumberId }, code = 131000, times = 2 });
        var post = await account.CreatePostAsync($"t{Guid.NewGuid():N}"[..12], DateTimeOffset.UtcNow.AddSeconds(1));

        await Database.WaitForStatusAsync(System, [post.Id], "published", Eventually);

        var row = (await Database.PostsAsync(System, [post.Id])).Values.Single();
        Assert.Equal(2, row.RetryCount);
        var runs = await RunsAsync(account, post.Id);
        Assert.Equal(["failed", "failed", "success"], runs.Select(r => r.Status));
        AssertGap(runs[0], runs[1], TimeSpan.FromSeconds(1));
        AssertGap(runs[1], runs[2], TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task A_post_failing_every_time_fails_after_three_retries()
    {
        var account = await TestAccount.CreateAsync(System);
        await System.Emulator.AddFaultAsync(new { match = new { account = account.PhoneNumberId }, code = 131000, times = 0 });
        var post = await account.CreatePostAsync($"g{Guid.NewGuid():N}"[..12], DateTimeOffset.UtcNow.AddSeconds(1));

        await Database.WaitForStatusAsync(System, [post.Id], "failed", Eventually);

        var row = (await Database.PostsAsync(System, [post.Id])).Values.Single();
        Assert.Equal(3, row.RetryCount);
        Assert.Contains("3 retries", row.Error);
        Assert.Equal(4, (await RunsAsync(account, post.Id)).Count);
        Assert.Empty(await account.SentAsync());
    }

    [Fact]
    public async Task Rate_limit_deferrals_do_not_consume_retries()
    {
        var account = await TestAccount.CreateAsync(System);
        await System.Emulator.AddFaultAsync(new { match = new { account = account.PhoneNumberId }, preset = "wa_throughput", retryAfterSeconds = 1, times = 2 });
        var post = await account.CreatePostAsync($"d{Guid.NewGuid():N}"[..12], DateTimeOffset.UtcNow.AddSeconds(1));

        await Database.WaitForStatusAsync(System, [post.Id], "published", Eventually);

        var row = (await Database.PostsAsync(System, [post.Id])).Values.Single();
        Assert.Equal(0, row.RetryCount);
        var runs = await RunsAsync(account, post.Id);
        Assert.Equal("success", runs[^1].Status);
        Assert.True(runs.Count >= 3, $"expected two deferrals before the success, got {runs.Count - 1}");
        Assert.All(runs[..^1], r => Assert.Equal("deferred", r.Status));
        Assert.Single(await account.SentAsync());
    }

    [Fact]
    public async Task An_overdue_post_inside_the_misfire_window_is_published_and_records_how_late_beyond_it_is_missed()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"w{Guid.NewGuid():N}"[..12];
        var inside = await account.CreatePostAsync($"{prefix}-inside", DateTimeOffset.UtcNow.AddHours(1));
        var beyond = await account.CreatePostAsync($"{prefix}-beyond", DateTimeOffset.UtcNow.AddHours(1));

        // As after a long outage: the posts' due times are already far behind.
        await using (var connection = new NpgsqlConnection(System.PostsConnectionString))
        {
            await connection.OpenAsync();
            await using var age = new NpgsqlCommand("""
                update scheduled_posts set publish_at = now() - @ago, due_at = now() - @ago where id = @id
                """, connection);
            age.Parameters.AddWithValue("ago", TimeSpan.FromHours(23));
            age.Parameters.AddWithValue("id", Guid.Parse(inside.Id));
            await age.ExecuteNonQueryAsync();
            age.Parameters["ago"].Value = TimeSpan.FromHours(25);
            age.Parameters["id"].Value = Guid.Parse(beyond.Id);
            await age.ExecuteNonQueryAsync();
        }

        await Database.WaitForStatusAsync(System, [inside.Id], "published", Eventually);
        await Database.WaitForStatusAsync(System, [beyond.Id], "missed", Eventually);

        var rows = await Database.PostsAsync(System, [inside.Id, beyond.Id]);
        var published = rows[Guid.Parse(inside.Id)];
        Assert.InRange(published.DispatchLateMs!.Value, (long)TimeSpan.FromHours(23).TotalMilliseconds, (long)TimeSpan.FromHours(23.1).TotalMilliseconds);
        var missed = rows[Guid.Parse(beyond.Id)];
        Assert.Contains("misfire window", missed.Error);
        Assert.Contains("1 day 01:00", missed.Error);
        var sent = await account.SentAsync();
        Assert.Equal([$"{prefix}-inside"], sent.Select(m => m.Text));
    }

    private async Task<List<PostRun>> RunsAsync(TestAccount account, string postId)
    {
        var runs = await System.PostClient.ListPostRunsAsync(new ListPostRunsRequest { Id = postId }, account.Auth);
        return runs.Runs.OrderBy(r => r.StartedAt.ToDateTimeOffset()).ToList();
    }

    private static void AssertGap(PostRun first, PostRun next, TimeSpan backoff)
    {
        var gap = next.StartedAt.ToDateTimeOffset() - first.FinishedAt.ToDateTimeOffset();
        Assert.InRange(gap, backoff, backoff + TimeSpan.FromSeconds(5));
    }
}
