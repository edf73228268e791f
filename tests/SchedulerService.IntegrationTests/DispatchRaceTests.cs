using System.Collections.Concurrent;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>Creates, moves and cancels racing the dispatch of the very same posts.</summary>
[Collection(OneSchedulerCollection.Name)]
public sealed class DispatchRaceTests(OneSchedulerSystem fixture)
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_cancel_racing_dispatch_leaves_each_post_cancelled_or_published_once_never_both_never_early()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"c{Guid.NewGuid():N}"[..12];
        var (posts, due) = await CreateDueSoonAsync(account, prefix);

        // Each cancel fires at its own moment from a second before the due time to half a second after it.
        var cancelled = new ConcurrentDictionary<string, bool>();
        await Task.WhenAll(posts.Select(async (post, i) =>
        {
            var delay = due + TimeSpan.FromMilliseconds(-1000 + 1500.0 * i / posts.Length) - DateTimeOffset.UtcNow;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }
            cancelled[post.Id] = await CancelAsync(post.Id, account);
        }));
        var ids = posts.Select(p => p.Id).ToList();
        var toPublish = cancelled.Count(c => !c.Value);
        await Polling.UntilAsync(() => Database.CountAsync(System, ids, "published"), n => n >= toPublish, Eventually, "the uncancelled posts to publish");

        var rows = await Database.PostsAsync(System, ids);
        var byText = Sends.ByText(await account.SentAsync());
        for (var i = 0; i < posts.Length; i++)
        {
            var row = rows[Guid.Parse(posts[i].Id)];
            var sent = byText.GetValueOrDefault($"{prefix}-{i}") ?? [];
            if (cancelled[posts[i].Id])
            {
                Assert.Equal("cancelled", row.Status);
                Assert.Empty(sent);
            }
            else
            {
                Assert.Equal("published", row.Status);
                var message = Assert.Single(sent);
                Assert.True(message.Time >= due, $"post {i} was sent {(due - message.Time).TotalMilliseconds} ms early");
            }
        }
        Assert.Contains(cancelled.Values, c => c);
    }

    [Fact]
    public async Task A_move_racing_dispatch_sends_each_post_once_at_its_old_time_or_its_new_time_never_early()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"m{Guid.NewGuid():N}"[..12];
        await Database.WarmMoveConnectionsAsync(System);
        var (posts, due) = await CreateDueSoonAsync(account, prefix);
        var later = due.AddSeconds(3);

        var moved = new ConcurrentDictionary<string, bool>();
        await Task.WhenAll(posts.Select(async (post, i) =>
        {
            var delay = due + TimeSpan.FromMilliseconds(-1000 + 1500.0 * i / posts.Length) - DateTimeOffset.UtcNow;
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }
            moved[post.Id] = await Database.MoveAsync(System, post.Id, later);
        }));
        var sent = await account.WaitForSentAsync(posts.Length, Eventually);

        Sends.AssertExactlyOnce(sent, posts.Select((_, i) => $"{prefix}-{i}"));
        var byText = Sends.ByText(sent);
        for (var i = 0; i < posts.Length; i++)
        {
            var expected = moved[posts[i].Id] ? later : due;
            var message = byText[$"{prefix}-{i}"].Single();
            Assert.True(message.Time >= expected, $"post {i} (moved: {moved[posts[i].Id]}) sent {(expected - message.Time).TotalMilliseconds} ms before {expected:O}");
        }
        Assert.Contains(moved.Values, m => m);
    }

    [Fact]
    public async Task A_post_moved_earlier_goes_out_at_its_new_time()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"e{Guid.NewGuid():N}"[..12];
        var posts = await account.CreatePostsAsync(prefix, 20, _ => DateTimeOffset.UtcNow.AddHours(1));
        var newTime = DateTimeOffset.UtcNow.AddSeconds(2);
        foreach (var post in posts)
        {
            Assert.True(await Database.MoveAsync(System, post.Id, newTime));
        }

        var sent = await account.WaitForSentAsync(posts.Length, Eventually);

        Sends.AssertExactlyOnce(sent, posts.Select((_, i) => $"{prefix}-{i}"));
        Assert.All(sent, m => Assert.InRange(m.Time, newTime, newTime.AddSeconds(5)));
    }

    [Fact]
    public async Task Posts_created_at_or_just_before_their_due_time_go_out_once_promptly_never_early()
    {
        var account = await TestAccount.CreateAsync(System);
        var prefix = $"n{Guid.NewGuid():N}"[..12];
        var start = DateTimeOffset.UtcNow;
        // Due from "now" to 500 ms ahead while they are being created: each create races the loop's sleep.
        var publishAt = Enumerable.Range(0, 100).Select(i => start.AddMilliseconds(5 * i)).ToArray();
        await account.CreatePostsAsync(prefix, publishAt.Length, i => publishAt[i], parallelism: 8);

        var sent = await account.WaitForSentAsync(publishAt.Length, Eventually);

        Sends.AssertExactlyOnce(sent, publishAt.Select((_, i) => $"{prefix}-{i}"));
        var byText = Sends.ByText(sent);
        for (var i = 0; i < publishAt.Length; i++)
        {
            var message = byText[$"{prefix}-{i}"].Single();
            Assert.InRange(message.Time, publishAt[i], publishAt[i].AddSeconds(5));
        }
    }

    /// <summary>
    /// 200 posts that fall due together a few seconds from now. They are created an hour ahead and then moved to the
    /// due time in one statement: created directly at "now + 5 s", a loaded CI machine once took longer than that to
    /// create them, every move or cancel then came after dispatch, and the race under test never happened.
    /// </summary>
    private async Task<(ScheduledPost[] Posts, DateTimeOffset Due)> CreateDueSoonAsync(TestAccount account, string prefix)
    {
        var posts = await account.CreatePostsAsync(prefix, 200, _ => DateTimeOffset.UtcNow.AddHours(1));
        var due = DateTimeOffset.UtcNow.AddSeconds(3);
        Assert.Equal(posts.Length, await Database.MoveAllAsync(System, posts.Select(p => p.Id), due));
        return (posts, due);
    }

    /// <summary>
    /// Cancels as a client would: 200 cancels at once can find PostsService's connections all taken on a loaded
    /// machine, which it answers UNAVAILABLE before touching the post, and UNAVAILABLE is retried. True when the post
    /// was cancelled, false when dispatch took it first (FAILED_PRECONDITION).
    /// </summary>
    private async Task<bool> CancelAsync(string postId, TestAccount account)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await System.PostClient.CancelPostAsync(new CancelPostRequest { Id = postId }, account.Auth);
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt));
            }
        }
    }
}
