using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>Redis is only an index: flushing or stopping it delays posts by a second or two and loses none.</summary>
[Collection(OneSchedulerCollection.Name)]
public sealed class RedisLossTests(OneSchedulerSystem fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LatenessBound = TimeSpan.FromSeconds(5);
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_flushall_while_1000_posts_are_scheduled_loses_none_and_sends_each_once()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"f{Guid.NewGuid():N}"[..12];
        var due = DateTimeOffset.UtcNow.AddSeconds(8);
        var ids = await account.InsertPostsAsync(prefix, 1000, due);
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, ids), n => n == ids.Length, Eventually, "the posts to be indexed");

        await System.Redis.FlushAllAsync();
        Assert.True(DateTimeOffset.UtcNow < due, "the flush came after the posts were due");
        Assert.Equal(0, await Index.IndexedCountAsync(System, ids));

        // The scheduler notices the loss by itself and rebuilds from PostgreSQL.
        await Polling.UntilAsync(() => Index.IsCompleteAsync(System), c => c, Eventually, "the index to be rebuilt");
        var sent = await account.WaitForSentAsync(ids.Length, Eventually);
        await Database.WaitForStatusAsync(System, ids, "published", Eventually);

        Sends.AssertExactlyOnce(sent, ids.Select((_, i) => $"{prefix}-{i}"));
        Assert.All(sent, m => Assert.True(m.Time >= due, $"{m.Text} sent before its time"));
        output.WriteLine($"last send {(sent.Max(m => m.Time) - due).TotalMilliseconds:F0} ms after due");
    }

    [Fact]
    public async Task With_redis_stopped_for_30_seconds_posts_due_meanwhile_still_go_out_a_few_seconds_late_at_most()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"r{Guid.NewGuid():N}"[..12];
        var start = DateTimeOffset.UtcNow;
        var before = await account.CreatePostsAsync(prefix, 28, i => start.AddSeconds(4 + i));
        var ids = before.Select(p => p.Id).ToList();
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, ids), n => n == ids.Count, Eventually, "the posts to be indexed");

        await System.Redis.StopAsync(crash: true);
        var stoppedAt = DateTimeOffset.UtcNow;
        try
        {
            // Posts created during the outage, due two seconds later: the outbox holds them, the safety net sends them.
            for (var i = 0; i < 5; i++)
            {
                var created = await account.CreatePostAsync($"{prefix}-during-{i}", DateTimeOffset.UtcNow.AddSeconds(2));
                ids.Add(created.Id);
                await Task.Delay(TimeSpan.FromSeconds(4));
            }
            var remaining = stoppedAt.AddSeconds(30) - DateTimeOffset.UtcNow;
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining);
            }
            Assert.True(await Database.CountAsync(System, ids, "published") >= 20, "posts due during the outage were held back");
        }
        finally
        {
            await System.Redis.RestartAsync();
        }

        // A post for later, created after Redis is back, reaches the rebuilt index.
        var later = await account.CreatePostAsync($"{prefix}-later", DateTimeOffset.UtcNow.AddHours(1));
        await Polling.UntilAsync(() => Index.IndexedCountAsync(System, [later.Id]), n => n == 1, Eventually, "the later post to be indexed");
        await Database.WaitForStatusAsync(System, ids, "published", Eventually);

        var rows = await Database.PostsAsync(System, ids);
        var sent = await account.SentAsync();
        Assert.Equal(ids.Count, sent.Count);
        Assert.Equal(ids.Count, sent.Select(m => m.Text).Distinct().Count());
        var worst = TimeSpan.Zero;
        foreach (var row in rows.Values)
        {
            var lateness = row.PublishedAt!.Value - row.PublishAt;
            worst = lateness > worst ? lateness : worst;
            Assert.InRange(lateness, TimeSpan.Zero, LatenessBound);
        }
        output.WriteLine($"worst lateness with Redis down: {worst.TotalMilliseconds:F0} ms over {rows.Count} posts");
    }
}
