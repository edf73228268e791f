using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>Series preview (issue 16): a rule's next occurrences in a zone, and the occurrences of queued series in a range.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class SeriesPreviewTests(PostsServiceFixture fixture)
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public async Task PreviewSeries_keeps_the_local_time_across_a_DST_change()
    {
        var user = fixture.NewUser();
        // Daily at 09:00 in Paris, around the spring-forward Sunday of 2027 (March 28): 08:00 UTC before it, 07:00 UTC after.
        var preview = await fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest
        {
            Rrule = "RRULE:FREQ=DAILY", TimeZone = "Europe/Paris", Start = Timestamp.FromDateTimeOffset(Utc(2027, 3, 26, 8)), Count = 4,
        }, user.Headers);

        Assert.Equal([Utc(2027, 3, 26, 8), Utc(2027, 3, 27, 8), Utc(2027, 3, 28, 7), Utc(2027, 3, 29, 7)],
            preview.Occurrences.Select(o => o.ToDateTimeOffset()));

        // In New York the weekly Sunday 09:00 crosses its change of 2027 (March 14): 14:00 UTC, then 13:00 UTC.
        var weekly = await fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest
        {
            Rrule = "FREQ=WEEKLY;BYDAY=SU", TimeZone = "America/New_York", Start = Timestamp.FromDateTimeOffset(Utc(2027, 3, 7, 14)), Count = 3,
        }, user.Headers);
        Assert.Equal([Utc(2027, 3, 7, 14), Utc(2027, 3, 14, 13), Utc(2027, 3, 21, 13)], weekly.Occurrences.Select(o => o.ToDateTimeOffset()));
    }

    [Fact]
    public async Task PreviewSeries_stops_where_the_rule_ends_and_names_each_bad_field()
    {
        var user = fixture.NewUser();
        var counted = await fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest
        {
            Rrule = "FREQ=DAILY;COUNT=3", Start = Timestamp.FromDateTimeOffset(Utc(2027, 1, 1, 12)), Count = 10,
        }, user.Headers);
        Assert.Equal(3, counted.Occurrences.Count);

        await Expect.BadFields(() => fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest
        {
            Rrule = "FREQ=SOMETIMES", TimeZone = "Mars/Olympus", Start = Timestamp.FromDateTimeOffset(Utc(2027, 1, 1, 12)), Count = 101,
        }, user.Headers).ResponseAsync, "rrule", "time_zone", "count");
        await Expect.BadFields(() => fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest { Rrule = "FREQ=DAILY" }, user.Headers).ResponseAsync, "start");
        await Expect.BadFields(() => fixture.Queue.PreviewSeriesAsync(new PreviewSeriesRequest
        {
            Rrule = "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", Start = Timestamp.FromDateTimeOffset(Utc(2027, 1, 1, 12)),
        }, user.Headers).ResponseAsync, "rrule");
    }

    [Fact]
    public async Task PreviewSeries_has_a_REST_route()
    {
        var user = fixture.NewUser();
        using var response = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, "/api/series:preview", user,
            """{"rrule":"FREQ=DAILY","timeZone":"Europe/Paris","start":"2027-03-27T08:00:00Z","count":2}"""));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        Assert.Contains("2027-03-28T07:00:00Z", body);

        using var occurrences = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get,
            "/api/series/occurrences?start_time=2027-03-27T00:00:00Z&end_time=2027-03-30T00:00:00Z", user));
        Assert.True(occurrences.IsSuccessStatusCode, await occurrences.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ListSeriesOccurrences_expands_queued_series_inside_the_range_only()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        // Tomorrow at 09:00 Paris time, daily.
        var tomorrow = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Paris).DateTime).AddDays(1);
        var local = tomorrow.ToDateTime(new TimeOnly(9, 0));
        var first = new DateTimeOffset(local, Paris.GetUtcOffset(local));
        var series = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id, Content = new Content { Text = "daily" }, PublishAt = Timestamp.FromDateTimeOffset(first),
            TimeZone = "Europe/Paris", Rrule = "FREQ=DAILY",
        }, user.Headers);
        var single = await fixture.CreatePostAsync(user, channel, inFuture: TimeSpan.FromHours(30));
        var cancelled = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id, Content = new Content { Text = "cancelled" }, PublishAt = Timestamp.FromDateTimeOffset(first.AddMinutes(5)),
            Rrule = "FREQ=DAILY",
        }, user.Headers);
        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = cancelled.Id }, user.Headers);

        // From one hour after the first occurrence, for three days: the next three, each at 09:00 in Paris.
        var listed = await fixture.Queue.ListSeriesOccurrencesAsync(new ListSeriesOccurrencesRequest
        {
            StartTime = Timestamp.FromDateTimeOffset(first.AddHours(1)), EndTime = Timestamp.FromDateTimeOffset(first.AddDays(3).AddHours(1)),
            ChannelId = channel.Id,
        }, user.Headers);

        Assert.Equal(3, listed.Occurrences.Count);
        Assert.All(listed.Occurrences, o =>
        {
            Assert.Equal(series.Id, o.PostId);
            Assert.Equal("09:00", TimeZoneInfo.ConvertTime(o.PublishAt.ToDateTimeOffset(), Paris).ToString("HH:mm"));
        });
        Assert.DoesNotContain(listed.Occurrences, o => o.PostId == single.Id || o.PostId == cancelled.Id);
        // Another user sees none of them.
        var stranger = await fixture.Queue.ListSeriesOccurrencesAsync(new ListSeriesOccurrencesRequest
        {
            StartTime = Timestamp.FromDateTimeOffset(first.AddHours(-1)), EndTime = Timestamp.FromDateTimeOffset(first.AddDays(3)),
        }, fixture.NewUser().Headers);
        Assert.Empty(stranger.Occurrences);
        await Expect.BadFields(() => fixture.Queue.ListSeriesOccurrencesAsync(new ListSeriesOccurrencesRequest
        {
            StartTime = Timestamp.FromDateTimeOffset(first), EndTime = Timestamp.FromDateTimeOffset(first.AddDays(100)),
        }, user.Headers).ResponseAsync, "end_time");
    }
}
