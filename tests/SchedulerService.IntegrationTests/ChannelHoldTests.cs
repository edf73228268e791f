using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>
/// Channels that hold their posts (paused by the user, or disconnected by an auth failure) on the running system:
/// their posts leave the index and are never claimed meanwhile, and releasing the channel puts them back at once
/// under the misfire policy.
/// </summary>
[Collection(OneSchedulerCollection.Name)]
public sealed class ChannelHoldTests(OneSchedulerSystem fixture)
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_paused_channels_due_post_is_not_claimed_and_leaves_the_index()
    {
        var account = await TestAccount.CreateAsync(System);
        var due = DateTimeOffset.UtcNow.AddSeconds(4);
        var post = await account.CreatePostAsync($"p{Guid.NewGuid():N}"[..12], due);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, [post.Id]), n => n == 1, Eventually, "the post in the index");

        var paused = await System.ChannelClient.PauseChannelAsync(new PauseChannelRequest { Id = account.ChannelId }, account.Auth);
        Assert.Equal(ChannelState.Paused, paused.State);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, [post.Id]), n => n == 0, Eventually, "the post out of the index");
        // Past the due time, and past the safety net's grace and period, twice over.
        await Task.Delay(due - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5));

        var row = (await Database.PostsAsync(System, [post.Id])).Values.Single();
        Assert.Equal(("queued", 0, 0), (row.Status, row.Attempt, row.RetryCount));
        Assert.Equal(due, row.DueAt, TimeSpan.FromMilliseconds(1));
        Assert.Empty((await System.PostClient.ListPostRunsAsync(new ListPostRunsRequest { Id = post.Id }, account.Auth)).Runs);
        Assert.Equal(0, await Index.IndexedCountAsync(System, [post.Id]));
        Assert.Empty(await account.SentAsync());
    }

    [Fact]
    public async Task Resuming_publishes_a_post_late_inside_the_misfire_window_at_once_and_misses_one_beyond_it_naming_the_pause()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"r{Guid.NewGuid():N}"[..12];
        var inside = await account.CreatePostAsync($"{prefix}-inside", DateTimeOffset.UtcNow.AddHours(1));
        var beyond = await account.CreatePostAsync($"{prefix}-beyond", DateTimeOffset.UtcNow.AddHours(1));
        await System.ChannelClient.PauseChannelAsync(new PauseChannelRequest { Id = account.ChannelId }, account.Auth);
        // As after a long pause: both came due while the channel was paused, one beyond the 24 h window.
        await AgeAsync(inside.Id, TimeSpan.FromHours(23));
        await AgeAsync(beyond.Id, TimeSpan.FromHours(25));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(2, await Database.CountAsync(System, [inside.Id, beyond.Id], "queued"));

        var resumed = await System.ChannelClient.ResumeChannelAsync(new ResumeChannelRequest { Id = account.ChannelId }, account.Auth);

        Assert.Equal(ChannelState.Active, resumed.State);
        var missed = (await Database.PostsAsync(System, [beyond.Id])).Values.Single();
        Assert.Equal("missed", missed.Status);
        Assert.Contains("while the channel was paused", missed.Error);
        Assert.Contains("beyond the misfire window of 1d 00h", missed.Error);
        Assert.Contains("1 day 01:00", missed.Error);
        // Back at its unchanged due time, 23 hours ago: claimed as soon as the index has it, not a minute later.
        Assert.True((await Database.PostsAsync(System, [inside.Id])).Values.Single().DueAt < DateTimeOffset.UtcNow.AddHours(-22));
        await Database.WaitForStatusAsync(System, [inside.Id], "published", TimeSpan.FromSeconds(15));
        Assert.Equal([$"{prefix}-inside"], (await account.SentAsync()).Select(m => m.Text));
    }

    [Fact]
    public async Task Resuming_with_publish_late_posts_publishes_a_post_overdue_beyond_the_misfire_window()
    {
        var account = await TestAccount.CreateAsync(System);
        var text = $"l{Guid.NewGuid():N}"[..12];
        var post = await account.CreatePostAsync(text, DateTimeOffset.UtcNow.AddHours(1));
        await System.ChannelClient.PauseChannelAsync(new PauseChannelRequest { Id = account.ChannelId }, account.Auth);
        await AgeAsync(post.Id, TimeSpan.FromHours(30));

        await System.ChannelClient.ResumeChannelAsync(
            new ResumeChannelRequest { Id = account.ChannelId, PublishLatePosts = true }, account.Auth);

        await Database.WaitForStatusAsync(System, [post.Id], "published", TimeSpan.FromSeconds(15));
        Assert.Equal([text], (await account.SentAsync()).Select(m => m.Text));
        var row = (await Database.PostsAsync(System, [post.Id])).Values.Single();
        Assert.True(row.PublishedAt - row.PublishAt > TimeSpan.FromHours(29), "published 30 hours after its time, as asked");
    }

    [Fact]
    public async Task Posts_in_flight_when_the_token_expires_are_held_not_failed_and_reconnecting_requeues_them_at_once()
    {
        var account = await TestAccount.CreateAsync(System);
        await System.Emulator.ConfigureAccountAsync(account.PhoneNumberId, new { expiredTokens = new[] { "EAAG-scheduler-tests" } });
        var prefix = $"a{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(3);
        var posts = await account.CreatePostsAsync(prefix, 8, _ => due);
        var ids = posts.Select(p => p.Id).ToList();

        // All eight are claimed together and meet the expired token in one batch.
        await Polling.UntilAsync(() => AttemptedAsync(ids), n => n == ids.Count, Eventually, "every post attempted and settled");

        var held = await Database.PostsAsync(System, ids);
        Assert.All(held.Values, r => Assert.Equal(("queued", 0), (r.Status, r.RetryCount)));
        Assert.All(held.Values, r => Assert.Contains("reconnected", r.Error));
        Assert.All(held.Values, r => Assert.Equal(due, r.DueAt, TimeSpan.FromMilliseconds(1)));
        foreach (var id in ids)
        {
            var run = Assert.Single((await System.PostClient.ListPostRunsAsync(new ListPostRunsRequest { Id = id }, account.Auth)).Runs);
            Assert.Equal(("failed", "auth", 190), (run.Status, run.ErrorClass, run.ErrorCode));
        }
        var channel = await System.ChannelClient.GetChannelAsync(new GetChannelRequest { Id = account.ChannelId }, account.Auth);
        Assert.Equal(ChannelState.NeedsReconnect, channel.State);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, ids), n => n == 0, Eventually, "the held posts out of the index");
        Assert.Empty(await account.SentAsync());

        await System.ChannelClient.UpdateChannelAsync(new UpdateChannelRequest
        {
            Id = account.ChannelId,
            AccessToken = "EAAG-scheduler-tests-rotated",
            UpdateMask = new FieldMask { Paths = { "access_token" } },
        }, account.Auth);

        // Requeued at their own (past) due time by the reconnect itself: due now, not a minute from now.
        var requeued = await Database.PostsAsync(System, ids);
        Assert.All(requeued.Values, r => Assert.True(r.Status == "queued" || r.Status == "publishing" || r.Status == "published", r.Status));
        Assert.All(requeued.Values, r => Assert.True(r.DueAt <= DateTimeOffset.UtcNow, $"{r.Id} due at {r.DueAt:O}"));
        await Database.WaitForStatusAsync(System, ids, "published", TimeSpan.FromSeconds(20));
        Sends.AssertExactlyOnce(await account.SentAsync(), posts.Select((_, i) => $"{prefix}-{i}"));
    }

    /// <summary>How many of the posts have been claimed at least once and are no longer being published.</summary>
    private async Task<int> AttemptedAsync(IEnumerable<string> ids) =>
        (await Database.PostsAsync(System, ids)).Values.Count(r => r.Attempt >= 1 && r.Status != "publishing");

    private async Task AgeAsync(string postId, TimeSpan ago)
    {
        await using var connection = new NpgsqlConnection(System.PostsConnectionString);
        await connection.OpenAsync();
        await using var age = new NpgsqlCommand("update scheduled_posts set publish_at = now() - @ago, due_at = now() - @ago where id = @id", connection);
        age.Parameters.AddWithValue("ago", ago);
        age.Parameters.AddWithValue("id", Guid.Parse(postId));
        await age.ExecuteNonQueryAsync();
    }
}
