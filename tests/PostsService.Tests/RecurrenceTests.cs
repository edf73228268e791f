using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>Recurring posts, driven through the internal RPCs the scheduler and publisher use.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class RecurrenceTests(PostsServiceFixture fixture)
{
    private readonly Metadata _service = TestTokens.ForService();

    private Task FinishAsync(string postId, OutcomeKind kind) => fixture.FinishAsync(postId, kind);

    private async Task<List<ScheduledPost>> SeriesAsync(TestUser user, string seriesId) =>
        (await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 100 }, user.Headers)).Posts
            .Where(p => p.SeriesId == seriesId).OrderBy(p => p.PublishAt.ToDateTimeOffset()).ToList();

    [Fact]
    public async Task A_recurring_series_queues_each_next_occurrence_in_its_time_zone_across_DST_until_COUNT()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        // 09:00 in New York on the day before clocks go forward: 14:00Z, then 13:00Z.
        var year = DateTime.UtcNow.Month < 3 ? DateTime.UtcNow.Year : DateTime.UtcNow.Year + 1;
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var dstDay = Enumerable.Range(8, 7).Select(d => new DateTime(year, 3, d)).First(d => d.DayOfWeek == DayOfWeek.Sunday);
        var first = new DateTimeOffset(dstDay.AddDays(-1).AddHours(9), zone.GetUtcOffset(dstDay.AddDays(-1).AddHours(9)));
        var post = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Daily" },
            PublishAt = Timestamp.FromDateTimeOffset(first),
            TimeZone = "America/New_York",
            Rrule = "RRULE:FREQ=DAILY;COUNT=3",
        }, user.Headers);
        Assert.Equal(post.Id, post.SeriesId);
        Assert.Equal("FREQ=DAILY;COUNT=3", post.Rrule);

        await FinishAsync(post.Id, OutcomeKind.Published);
        var series = await SeriesAsync(user, post.Id);
        Assert.Equal(2, series.Count);
        var second = series[1];
        Assert.Equal(PostStatus.Queued, second.Status);
        Assert.Equal(first.AddHours(23), second.PublishAt.ToDateTimeOffset());
        Assert.Equal(9, TimeZoneInfo.ConvertTime(second.PublishAt.ToDateTimeOffset(), zone).Hour);
        Assert.Equal("Daily", second.Content.Text);
        Assert.Equal(post.Rrule, second.Rrule);

        // A final failure continues the series too.
        await FinishAsync(second.Id, OutcomeKind.PermanentFailure);
        series = await SeriesAsync(user, post.Id);
        Assert.Equal(3, series.Count);
        Assert.Equal(PostStatus.Failed, series[1].Status);
        Assert.Equal(first.AddHours(47), series[2].PublishAt.ToDateTimeOffset());

        // COUNT=3: the third occurrence is the last.
        await FinishAsync(series[2].Id, OutcomeKind.Published);
        series = await SeriesAsync(user, post.Id);
        Assert.Equal(3, series.Count);
        Assert.DoesNotContain(series, p => p.Status == PostStatus.Queued);
    }

    [Fact]
    public async Task A_post_without_a_rule_or_a_retried_failure_queues_no_next_occurrence()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var single = await fixture.CreatePostAsync(user, channel);
        Assert.Equal("", single.SeriesId);
        await FinishAsync(single.Id, OutcomeKind.Published);

        var recurring = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Weekly" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            Rrule = "FREQ=WEEKLY",
        }, user.Headers);
        // A transient failure is retried (the same post queued again), not the end of this occurrence.
        await FinishAsync(recurring.Id, OutcomeKind.TransientFailure);
        var posts = (await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts;
        Assert.Equal(2, posts.Count);
        Assert.Equal(PostStatus.Queued, posts.Single(p => p.Id == recurring.Id).Status);
    }

    [Fact]
    public async Task A_missed_occurrence_queues_the_next_one_as_a_publish_does()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await CreateDailyPostAsync(user, channel, "Every day");
        // An outage: the occurrence is found two days overdue, beyond the 24 h misfire window.
        var missedAt = await DueTwoDaysAgoAsync(post);

        var claim = await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { post.Id } }, _service);

        Assert.Equal(1, claim.MissedCount);
        var series = await SeriesAsync(user, post.Id);
        Assert.Equal(2, series.Count);
        Assert.Equal((post.Id, PostStatus.Missed), (series[0].Id, series[0].Status));
        // The next is the first occurrence after now (the outage's are not back-filled), queued as after a publish.
        var next = series[1];
        Assert.Equal(PostStatus.Queued, next.Status);
        Assert.Equal(missedAt.AddDays(2), next.PublishAt.ToDateTimeOffset());
        Assert.Equal(("Every day", "FREQ=DAILY"), (next.Content.Text, next.Rrule));
    }

    [Fact]
    public async Task An_occurrence_missed_while_its_channel_was_paused_queues_the_next_one_on_resume()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await CreateDailyPostAsync(user, channel, "Every day, paused");
        await fixture.Channels.PauseChannelAsync(new PauseChannelRequest { Id = channel.Id }, user.Headers);
        // A long pause: the occurrence came due two days ago, beyond the 24 h misfire window.
        var missedAt = await DueTwoDaysAgoAsync(post);

        await fixture.Channels.ResumeChannelAsync(new ResumeChannelRequest { Id = channel.Id }, user.Headers);

        var series = await SeriesAsync(user, post.Id);
        Assert.Equal(2, series.Count);
        Assert.Equal((post.Id, PostStatus.Missed), (series[0].Id, series[0].Status));
        Assert.Equal(PostStatus.Queued, series[1].Status);
        Assert.Equal(missedAt.AddDays(2), series[1].PublishAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task A_deleted_channel_ends_its_series()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var recurring = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "Hourly" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            Rrule = "FREQ=HOURLY",
        }, user.Headers);
        await FinishAsync(recurring.Id, OutcomeKind.Published);
        var next = (await SeriesAsync(user, recurring.Id)).Single(p => p.Status == PostStatus.Queued);
        await fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = channel.Id }, user.Headers);
        var series = await SeriesAsync(user, recurring.Id);
        Assert.Equal(PostStatus.Cancelled, series.Single(p => p.Id == next.Id).Status);
        Assert.DoesNotContain(series, p => p.Status == PostStatus.Queued);
    }

    private async Task<ScheduledPost> CreateDailyPostAsync(TestUser user, Channel channel, string text) =>
        await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = text },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            Rrule = "FREQ=DAILY",
        }, user.Headers);

    /// <summary>Moves the occurrence two days back (beyond the 24 h misfire window); returns when it was due.</summary>
    private async Task<DateTimeOffset> DueTwoDaysAgoAsync(ScheduledPost post)
    {
        await fixture.OwnerScalarAsync("update scheduled_posts set publish_at = publish_at - interval '2 days', due_at = publish_at - interval '2 days' where id = @id",
            ("id", Guid.Parse(post.Id)));
        return post.PublishAt.ToDateTimeOffset().AddDays(-2);
    }
}
