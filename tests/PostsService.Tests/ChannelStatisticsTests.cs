using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// Publishing figures over a chosen range, per channel (PostStatisticsService, the studio's Statistics page): a post
/// counts in the range it finished in, and only the caller's workspaces are counted.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class ChannelStatisticsTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task Each_channel_counts_the_posts_that_finished_in_the_range_with_their_retries_and_delay()
    {
        var user = fixture.NewUser();
        var shop = await fixture.CreateWhatsAppChannelAsync(user);
        var feed = await fixture.CreateInstagramChannelAsync(user);
        var publishedLate = await FinishedAsync(user, shop, OutcomeKind.Published);
        await FinishedAsync(user, shop, OutcomeKind.PermanentFailure);
        var publishedLastWeek = await FinishedAsync(user, feed, OutcomeKind.Published);
        var now = DateTimeOffset.UtcNow;
        // Published 90 s after its time, after one retry.
        await fixture.OwnerScalarAsync("update scheduled_posts set published_at = publish_at + interval '90 seconds', retry_count = 1 where id = @id",
            ("id", Guid.Parse(publishedLate)));
        await fixture.OwnerScalarAsync("update scheduled_posts set published_at = @at where id = @id",
            ("at", now.AddDays(-7)), ("id", Guid.Parse(publishedLastWeek)));
        var publishAt = (DateTimeOffset)(DateTime)(await fixture.OwnerScalarAsync("select publish_at from scheduled_posts where id = @id", ("id", Guid.Parse(publishedLate))))!;

        // The range ends after the late post's published time (its publish_at is ahead: the test finished it early).
        var lastDay = await CountAsync(user, now.AddDays(-1), publishAt.AddHours(1));
        var lastTwoWeeks = await CountAsync(user, now.AddDays(-14), publishAt.AddHours(1));

        var channel = Assert.Single(lastDay);
        Assert.Equal((shop.Id, Platform.Whatsapp, 2L, 1L, 1L), (channel.ChannelId, channel.Platform, channel.Finished, channel.Published, channel.Retried));
        Assert.Equal(90, channel.MeanPublishDelaySeconds, precision: 3);
        Assert.Equal([(feed.Id, 1L, 1L), (shop.Id, 2L, 1L)],
            lastTwoWeeks.OrderBy(c => c.Platform == Platform.Whatsapp).Select(c => (c.ChannelId, c.Finished, c.Published)));
    }

    [Fact]
    public async Task Another_users_posts_are_not_counted_and_a_backward_range_is_invalid()
    {
        var owner = fixture.NewUser();
        await FinishedAsync(owner, await fixture.CreateWhatsAppChannelAsync(owner), OutcomeKind.Published);
        var now = DateTimeOffset.UtcNow;

        Assert.Empty(await CountAsync(fixture.NewUser(), now.AddDays(-1), now.AddDays(1)));
        Assert.Single(await CountAsync(owner, now.AddDays(-1), now.AddDays(1)));
        await Expect.BadFields(() => CountAsync(owner, now, now.AddDays(-1)), "end_time");
        await Expect.BadFields(() => CountAsync(owner, now.AddDays(-401), now), "end_time");
    }

    private async Task<string> FinishedAsync(TestUser user, Channel channel, OutcomeKind kind)
    {
        var post = await fixture.CreatePostAsync(user, channel, $"{kind} post");
        await fixture.FinishAsync(post.Id, kind);
        return post.Id;
    }

    private async Task<IReadOnlyList<ChannelStatistics>> CountAsync(TestUser user, DateTimeOffset start, DateTimeOffset end) =>
        (await fixture.Statistics.GetChannelStatisticsAsync(new GetChannelStatisticsRequest
        {
            StartTime = Timestamp.FromDateTimeOffset(start),
            EndTime = Timestamp.FromDateTimeOffset(end),
        }, user.Headers)).Channels;
}
