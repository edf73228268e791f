using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The system with a fast insights schedule: one snapshot 6 seconds after publishing, looked for every half second.</summary>
public sealed class InsightsSystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public InsightsService.InsightsServiceClient Insights => new(System.PostsChannel);

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Insights__SnapshotAges__0"] = "00:00:06",
            ["Insights__FetchInterval"] = "00:00:00.500",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>
/// SuggestPublishTimes against the emulator's insights model: PostsService, PublisherService (the fetcher) and the
/// emulator as processes, a history built by publishing posts and moving their media to chosen hours of a past week.
/// </summary>
public sealed class BestPublishTimesTests(InsightsSystemFixture fixture) : IClassFixture<InsightsSystemFixture>
{
    private const string Jpg = "https://cdn.test/photo.jpg";
    private const string NewYork = "America/New_York";
    private static readonly int[] SampledHours = [9, 12, 19];

    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task Suggestions_from_a_week_of_instagram_history_are_the_emulator_models_best_free_hours()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        await PutAsync($"/__emu/accounts/{account}", new { timeZone = NewYork });
        var channel = await user.InstagramChannelAsync(account);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(NewYork);

        // 21 posts, one per weekday at 09:00, 12:00 and 19:00 New York time of a week two weeks ago.
        var slots = global::System.Enum.GetValues<DayOfWeek>().SelectMany(day => SampledHours.Select(hour => (Day: day, Hour: hour))).ToList();
        var created = new List<ScheduledPost>();
        foreach (var slot in slots)
        {
            created.Add(await user.PostAsync(channel, $"{slot.Day} {slot.Hour}:00", (MediaType.Image, Jpg)));
        }
        var weekStart = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime).AddDays(-14);
        for (var i = 0; i < slots.Count; i++)
        {
            var post = await user.UntilAsync(created[i], p => p.Status == PostStatus.Published, $"post {i} to be published", seconds: 60);
            var day = Enumerable.Range(0, 7).Select(weekStart.AddDays).Single(d => d.DayOfWeek == slots[i].Day);
            var wall = day.ToDateTime(new TimeOnly(slots[i].Hour, 10));
            await PutAsync($"/__emu/published-media/{post.PlatformPostId}", new { timestamp = new DateTimeOffset(wall, zone.GetUtcOffset(wall)).ToString("O") });
            created[i] = post;
        }

        // The model's ranking of the sampled slots; the best one is taken by a post scheduled in its coming hour.
        var model = await System.Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/insights/model?account={account}");
        var modelled = model.GetProperty("slots").EnumerateArray().ToDictionary(
            s => (global::System.Enum.Parse<DayOfWeek>(s.GetProperty("weekday").GetString()!), s.GetProperty("hour").GetInt32()),
            s => (Rate: s.GetProperty("engagement_rate").GetDouble(), Reach: s.GetProperty("reach").GetInt64(),
                Interactions: s.GetProperty("total_interactions").GetInt64()));
        var ranked = slots.OrderByDescending(s => modelled[(s.Day, s.Hour)].Rate).ToList();
        Assert.Equal((DayOfWeek.Wednesday, 19), ranked[0]);
        var taken = NextStart(ranked[0].Day, ranked[0].Hour, zone);
        await System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "already in the best hour", Media = { new Media { Type = MediaType.Image, Url = Jpg } } },
            PublishAt = Timestamp.FromDateTimeOffset(taken.AddMinutes(10)),
        }, user.Auth);

        var suggestions = await Polling.UntilAsync(
            () => SuggestAsync(user, channel, 3, NewYork),
            s => s.Source == SuggestionSource.History && s.PostsMeasured == slots.Count,
            TimeSpan.FromSeconds(60), "the fetcher to measure every post");

        Assert.Equal(NewYork, suggestions.TimeZone);
        Assert.Equal(ranked.Skip(1).Take(3).Select(s => (IsoWeekday(s.Day), s.Hour)), suggestions.Slots.Select(s => (s.Weekday, s.Hour)));
        foreach (var slot in suggestions.Slots)
        {
            Assert.Equal(1, slot.SampleSize);
            var local = TimeZoneInfo.ConvertTime(slot.StartTime.ToDateTimeOffset(), zone);
            Assert.Equal((slot.Weekday, slot.Hour, 0), (IsoWeekday(local.DayOfWeek), local.Hour, local.Minute));
            Assert.InRange(slot.StartTime.ToDateTimeOffset(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(7));
            Assert.True(slot.Score > suggestions.MeanRate, "a best hour scores above the channel's mean");
        }
        Assert.True(suggestions.Slots[0].Score > suggestions.Slots[1].Score && suggestions.Slots[1].Score > suggestions.Slots[2].Score);

        // The channel's statistics sum the modelled metrics of its 21 posts.
        var statistics = await fixture.Insights.GetEngagementStatisticsAsync(new GetEngagementStatisticsRequest
        {
            ChannelId = channel.Id,
            StartTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)),
            EndTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, user.Auth);
        var instagram = Assert.Single(statistics.Platforms);
        Assert.Equal((Platform.Instagram, 21L, 21L), (instagram.Platform, instagram.PostsPublished, instagram.PostsMeasured));
        Assert.Equal(slots.Sum(s => modelled[(s.Day, s.Hour)].Reach), instagram.Reach);
        Assert.Equal(slots.Sum(s => modelled[(s.Day, s.Hour)].Interactions), instagram.TotalInteractions);

        // The post's engagement is its media's modelled metrics.
        var best = created[slots.IndexOf(ranked[1])];
        var engagement = await fixture.Insights.GetPostEngagementAsync(new GetPostEngagementRequest { PostId = best.Id }, user.Auth);
        var metrics = engagement.Metrics.ToDictionary(m => m.Name, m => m.Value);
        Assert.Equal(["comments", "likes", "reach", "saved", "shares", "total_interactions", "views"], metrics.Keys.Order());
        Assert.Equal((double)metrics["total_interactions"] / metrics["reach"], engagement.EngagementRate, 12);
        Assert.Equal(modelled[ranked[1]].Rate, engagement.EngagementRate, 12);
    }

    [Fact]
    public async Task An_instagram_channel_without_history_gets_the_hours_most_of_its_followers_are_online()
    {
        var user = new TestUser(System);
        var channel = await user.InstagramChannelAsync(TestUser.NewInstagramId());

        var suggestions = await Polling.UntilAsync(() => SuggestAsync(user, channel, 3, ""), s => s.Source != SuggestionSource.None,
            TimeSpan.FromSeconds(30), "the fetcher to measure online_followers");

        // The model's followers peak at 19:00 (the account's zone is UTC): the next three days at 19:00 UTC.
        Assert.Equal(SuggestionSource.OnlineFollowers, suggestions.Source);
        Assert.Equal("UTC", suggestions.TimeZone);
        Assert.Equal(Enumerable.Repeat(19, 3), suggestions.Slots.Select(s => s.Hour));
        var first = NextStart(null, 19, TimeZoneInfo.Utc);
        Assert.Equal([first, first.AddDays(1), first.AddDays(2)], suggestions.Slots.Select(s => s.StartTime.ToDateTimeOffset()));
    }

    [Fact]
    public async Task A_rate_limited_insights_read_holds_the_channel_until_Meta_allows_it_and_is_then_measured()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        // Meta's code 4 (application request limit) with Retry-After: 3 s on the account's first insights read.
        await System.Emulator.AddFaultAsync(new { match = new { method = "GET", pathRegex = "/insights$", account }, code = 4, retryAfterSeconds = 3, times = 1 });
        var channel = await user.InstagramChannelAsync(account);
        var post = await user.PostAsync(channel, "measured after the hold", (MediaType.Image, Jpg));

        var engagement = await Polling.UntilAsync(
            async () => await fixture.Insights.GetPostEngagementAsync(new GetPostEngagementRequest { PostId = post.Id }, user.Auth),
            e => e.Metrics.Count > 0, TimeSpan.FromSeconds(60), "the post to be measured");

        Assert.Contains(engagement.Metrics, m => m.Name == "reach" && m.Value > 0);
        var reads = (await user.RequestsAsync(account, "ig_insights")).ToList();
        var refused = Assert.Single(reads, r => r.GetProperty("status").GetInt32() != 200);
        var refusedAt = refused.GetProperty("time").GetDateTimeOffset();
        var after = reads.Where(r => r.GetProperty("seq").GetInt64() > refused.GetProperty("seq").GetInt64()).ToList();
        Assert.NotEmpty(after);
        // Nothing asked of the account while Meta said to wait (the fetcher looks every half second).
        Assert.All(after, r => Assert.True(r.GetProperty("time").GetDateTimeOffset() >= refusedAt.AddSeconds(2.9),
            $"an insights read {r.GetProperty("time")} came within the 3 s hold from {refusedAt}"));
    }

    [Fact]
    public async Task A_whatsapp_channel_with_nothing_to_go_on_gets_no_suggestions_and_says_so()
    {
        var user = new TestUser(System);
        var channel = await user.WhatsAppChannelAsync(TestUser.NewPhoneNumberId());

        var suggestions = await SuggestAsync(user, channel, 3, "");

        Assert.Equal(SuggestionSource.None, suggestions.Source);
        Assert.Empty(suggestions.Slots);
    }

    [Fact]
    public async Task Another_workspaces_channel_and_post_are_not_found()
    {
        var owner = new TestUser(System);
        var channel = await owner.InstagramChannelAsync(TestUser.NewInstagramId());
        var post = await owner.PostAsync(channel, "mine", (MediaType.Image, Jpg));
        var stranger = new TestUser(System);

        var suggest = await Assert.ThrowsAsync<RpcException>(() => SuggestAsync(stranger, channel, 3, ""));
        var engagement = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Insights.GetPostEngagementAsync(new GetPostEngagementRequest { PostId = post.Id }, stranger.Auth));

        Assert.Equal(StatusCode.NotFound, suggest.StatusCode);
        Assert.Equal(StatusCode.NotFound, engagement.StatusCode);
    }

    private async Task<SuggestPublishTimesResponse> SuggestAsync(TestUser user, Channel channel, int n, string timeZone) =>
        await fixture.Insights.SuggestPublishTimesAsync(new SuggestPublishTimesRequest { ChannelId = channel.Id, N = n, TimeZone = timeZone }, user.Auth);

    private async Task PutAsync(string path, object body)
    {
        using var response = await System.Emulator.Http.PutAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>The start of the first hour after the current one at <paramref name="hour"/> (on <paramref name="day"/>, if named) in <paramref name="zone"/>.</summary>
    private static DateTimeOffset NextStart(DayOfWeek? day, int hour, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime;
        var wall = new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0).AddHours(1);
        while ((day is { } d && wall.DayOfWeek != d) || wall.Hour != hour)
        {
            wall = wall.AddHours(1);
        }
        return new DateTimeOffset(wall, zone.GetUtcOffset(wall)).ToUniversalTime();
    }

    private static int IsoWeekday(DayOfWeek day) => day == DayOfWeek.Sunday ? 7 : (int)day;
}
