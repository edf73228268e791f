using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>Posting schedules and queue slots (issue 16): slots in the channel's zone, adds to the queue, publish next, closing gaps.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class QueueTests(PostsServiceFixture fixture)
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    /// <summary>Four slots every day, so a test's posts never wait long for a free one.</summary>
    private static readonly string[] EveryDay = ["08:00", "12:00", "16:00", "20:00"];

    private async Task<PostingSchedule> ScheduleAsync(TestUser owner, Channel channel, string zone, IEnumerable<(int Weekday, string Time)> slots,
        bool closeGaps = false) =>
        await fixture.Queue.UpdatePostingScheduleAsync(new UpdatePostingScheduleRequest
        {
            Schedule = new PostingSchedule
            {
                ChannelId = channel.Id, TimeZone = zone, CloseGaps = closeGaps,
                Slots = { slots.Select(s => new QueueSlot { Weekday = s.Weekday, TimeOfDay = s.Time }) },
            },
        }, owner.Headers);

    private static IEnumerable<(int, string)> Daily(params string[] times) =>
        Enumerable.Range(1, 7).SelectMany(day => times.Select(time => (day, time)));

    private async Task<List<DateTimeOffset>> NextSlotsAsync(TestUser user, Channel channel, int count) =>
        (await fixture.Queue.FindNextSlotsAsync(new FindNextSlotsRequest { ChannelId = channel.Id, Count = count }, user.Headers))
            .Slots.Select(s => s.ToDateTimeOffset()).ToList();

    private async Task<ScheduledPost> AddAsync(TestUser user, Channel channel, string text, bool publishNext = false, string requestId = "") =>
        await fixture.Queue.AddToQueueAsync(new AddToQueueRequest
        {
            ChannelId = channel.Id, Content = new Content { Text = text }, PublishNext = publishNext, RequestId = requestId,
        }, user.Headers);

    private async Task<Dictionary<string, DateTimeOffset>> TimesAsync(TestUser user, params ScheduledPost[] posts)
    {
        var times = new Dictionary<string, DateTimeOffset>();
        foreach (var post in posts)
        {
            var current = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, user.Headers);
            times[current.Content.Text] = current.PublishAt.ToDateTimeOffset();
        }
        return times;
    }

    [Fact]
    public async Task Slots_keep_their_wall_clock_time_across_DST_in_Paris_and_New_York_by_the_documented_rule()
    {
        var owner = fixture.NewUser();
        var paris = await fixture.CreateWhatsAppChannelAsync(owner);
        var newYorkSpring = await fixture.CreateWhatsAppChannelAsync(owner);
        var newYorkFall = await fixture.CreateWhatsAppChannelAsync(owner);
        await ScheduleAsync(owner, paris, "Europe/Paris", [(7, "02:30")]);
        await ScheduleAsync(owner, newYorkSpring, "America/New_York", [(7, "02:30")]);
        await ScheduleAsync(owner, newYorkFall, "America/New_York", [(7, "01:30")]);

        // 100 Sundays span more than a year and a half: each schedule meets both changes of its zone at least once.
        var parisSlots = await NextSlotsAsync(owner, paris, 100);
        var springSlots = await NextSlotsAsync(owner, newYorkSpring, 100);
        var fallSlots = await NextSlotsAsync(owner, newYorkFall, 100);

        // Paris, 02:30 on the spring-forward Sunday does not exist: the slot moves on by the gap, to 03:30 CEST (01:30 UTC).
        var parisSpring = parisSlots.Where(s => Paris.IsInvalidTime(LocalDate(s, Paris).ToDateTime(new TimeOnly(2, 30)))).ToList();
        Assert.NotEmpty(parisSpring);
        Assert.All(parisSpring, s =>
        {
            Assert.Equal(new TimeSpan(1, 30, 0), s.UtcDateTime.TimeOfDay);
            Assert.Equal(new TimeOnly(3, 30), TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, Paris).DateTime));
        });
        // Paris, 02:30 on the fall-back Sunday happens twice: one slot, the first (CEST, 00:30 UTC).
        var parisFall = parisSlots.Where(s => Paris.IsAmbiguousTime(LocalDate(s, Paris).ToDateTime(new TimeOnly(2, 30)))).ToList();
        Assert.NotEmpty(parisFall);
        Assert.All(parisFall, s => Assert.Equal(new TimeSpan(0, 30, 0), s.UtcDateTime.TimeOfDay));
        // Every other Sunday: 02:30 local, one slot a week.
        Assert.All(parisSlots.Except(parisSpring), s => Assert.Equal(new TimeOnly(2, 30), TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, Paris).DateTime)));
        Assert.Equal(parisSlots.Count, parisSlots.Select(s => LocalDate(s, Paris)).Distinct().Count());
        Assert.All(parisSlots, s => Assert.Equal(DayOfWeek.Sunday, LocalDate(s, Paris).DayOfWeek));

        // New York, 02:30 on the spring-forward Sunday: 03:30 EDT (07:30 UTC); other Sundays 02:30 local.
        var nySpring = springSlots.Where(s => NewYork.IsInvalidTime(LocalDate(s, NewYork).ToDateTime(new TimeOnly(2, 30)))).ToList();
        Assert.NotEmpty(nySpring);
        Assert.All(nySpring, s => Assert.Equal(new TimeSpan(7, 30, 0), s.UtcDateTime.TimeOfDay));
        Assert.All(springSlots.Except(nySpring), s => Assert.Equal(new TimeOnly(2, 30), TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, NewYork).DateTime)));

        // New York, 01:30 on the fall-back Sunday happens twice: one slot, the first (EDT, 05:30 UTC).
        var nyFall = fallSlots.Where(s => NewYork.IsAmbiguousTime(LocalDate(s, NewYork).ToDateTime(new TimeOnly(1, 30)))).ToList();
        Assert.NotEmpty(nyFall);
        Assert.All(nyFall, s => Assert.Equal(new TimeSpan(5, 30, 0), s.UtcDateTime.TimeOfDay));
        Assert.Equal(fallSlots.Count, fallSlots.Select(s => LocalDate(s, NewYork)).Distinct().Count());
        Assert.All(fallSlots, s => Assert.Equal(new TimeOnly(1, 30), TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(s, NewYork).DateTime)));
    }

    private static DateOnly LocalDate(DateTimeOffset instant, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    [Fact]
    public async Task Add_to_queue_from_eight_concurrent_clients_takes_eight_distinct_slots()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Queue race" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        await ScheduleAsync(owner, channel, "Europe/Paris", Daily(EveryDay));
        var editors = new List<TestUser>();
        for (var i = 0; i < 8; i++)
        {
            editors.Add(await fixture.JoinAsync(owner, workspace, WorkspaceRole.Editor));
        }
        var expected = await NextSlotsAsync(owner, channel, 8);

        using var start = new ManualResetEventSlim();
        var adds = editors.Select((editor, i) => Task.Run(async () =>
        {
            start.Wait();
            return await AddAsync(editor, channel, $"race {i}");
        })).ToList();
        start.Set();
        var posts = await Task.WhenAll(adds);

        var taken = posts.Select(p => p.PublishAt.ToDateTimeOffset()).Order().ToList();
        Assert.Equal(8, taken.Distinct().Count());
        Assert.Equal(expected, taken);
        Assert.All(posts, p => Assert.Equal(PostStatus.Queued, p.Status));
    }

    [Fact]
    public async Task Add_to_queue_appends_after_the_last_queue_post_and_skips_custom_time_posts()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        await ScheduleAsync(owner, channel, "America/New_York", Daily(EveryDay));
        var slots = await NextSlotsAsync(owner, channel, 6);

        // A post with its own time within the second slot's minute takes that slot.
        await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id, Content = new Content { Text = "custom" }, PublishAt = Timestamp.FromDateTimeOffset(slots[1].AddSeconds(20)),
        }, owner.Headers);
        var first = await AddAsync(owner, channel, "first");
        var second = await AddAsync(owner, channel, "second");

        Assert.Equal(slots[0], first.PublishAt.ToDateTimeOffset());
        Assert.Equal(slots[2], second.PublishAt.ToDateTimeOffset());
        Assert.Equal(slots[3..6], await NextSlotsAsync(owner, channel, 3));
    }

    [Fact]
    public async Task FindNextSlots_answers_the_free_slots_and_a_cancelled_post_frees_its_slot()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        await ScheduleAsync(owner, channel, "Europe/Paris", Daily(EveryDay));
        var slots = await NextSlotsAsync(owner, channel, 5);
        Assert.Equal(5, slots.Distinct().Count());
        Assert.All(slots, s => Assert.Contains(TimeZoneInfo.ConvertTime(s, Paris).ToString("HH:mm"), EveryDay));

        var custom = await fixture.Posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id, Content = new Content { Text = "custom" }, PublishAt = Timestamp.FromDateTimeOffset(slots[0]),
        }, owner.Headers);
        await AddAsync(owner, channel, "queued");
        Assert.Equal(slots[2..5], (await NextSlotsAsync(owner, channel, 4))[..3]);

        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = custom.Id }, owner.Headers);
        Assert.Equal(slots[0], (await NextSlotsAsync(owner, channel, 1))[0]);
    }

    [Fact]
    public async Task Publish_next_takes_the_head_slot_and_pushes_the_queue_back_one_slot_each()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        await ScheduleAsync(owner, channel, "Europe/Paris", Daily(EveryDay));
        var slots = await NextSlotsAsync(owner, channel, 5);
        var a = await AddAsync(owner, channel, "a");
        var b = await AddAsync(owner, channel, "b");
        var c = await AddAsync(owner, channel, "c");

        var next = await AddAsync(owner, channel, "next", publishNext: true);

        Assert.Equal(slots[0], next.PublishAt.ToDateTimeOffset());
        var times = await TimesAsync(owner, a, b, c);
        Assert.Equal(slots[1], times["a"]);
        Assert.Equal(slots[2], times["b"]);
        Assert.Equal(slots[3], times["c"]);
    }

    [Fact]
    public async Task Removing_a_queue_post_closes_the_gap_only_when_the_schedule_says_so()
    {
        var owner = fixture.NewUser();
        var closing = await fixture.CreateWhatsAppChannelAsync(owner);
        var keeping = await fixture.CreateWhatsAppChannelAsync(owner);
        await ScheduleAsync(owner, closing, "Europe/Paris", Daily(EveryDay), closeGaps: true);
        await ScheduleAsync(owner, keeping, "Europe/Paris", Daily(EveryDay), closeGaps: false);

        foreach (var channel in new[] { closing, keeping })
        {
            var slots = await NextSlotsAsync(owner, channel, 4);
            var a = await AddAsync(owner, channel, "a");
            var b = await AddAsync(owner, channel, "b");
            var c = await AddAsync(owner, channel, "c");

            var removed = await fixture.Queue.RemoveFromQueueAsync(new RemoveFromQueueRequest { Id = a.Id }, owner.Headers);
            Assert.Equal(PostStatus.Cancelled, removed.Status);

            var times = await TimesAsync(owner, b, c);
            if (channel == closing)
            {
                Assert.Equal(slots[0], times["b"]);
                Assert.Equal(slots[1], times["c"]);
            }
            else
            {
                Assert.Equal(slots[1], times["b"]);
                Assert.Equal(slots[2], times["c"]);
                // The gap stays open, and the next add still goes to the end of the queue.
                Assert.Equal(slots[0], (await NextSlotsAsync(owner, channel, 1))[0]);
                Assert.Equal(slots[3], (await AddAsync(owner, channel, "d")).PublishAt.ToDateTimeOffset());
            }
        }
    }

    [Fact]
    public async Task Queue_adds_are_checked_as_creates_are()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Queue roles" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);
        var unscheduled = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        await ScheduleAsync(owner, channel, "Europe/Paris", Daily(EveryDay));

        var stranger = fixture.NewUser();
        await Expect.Status(StatusCode.NotFound, () => AddAsync(stranger, channel, "stranger"));
        await Expect.Status(StatusCode.NotFound, () => NextSlotsAsync(stranger, channel, 1));
        await Expect.Status(StatusCode.NotFound, () => fixture.Queue.GetPostingScheduleAsync(new GetPostingScheduleRequest { ChannelId = channel.Id }, stranger.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => AddAsync(viewer, channel, "viewer"));
        await Expect.Status(StatusCode.PermissionDenied, () => ScheduleAsync(contributor, channel, "UTC", Daily("10:00")));
        await Expect.Status(StatusCode.FailedPrecondition, () => AddAsync(owner, unscheduled, "no schedule"));
        await Expect.BadFields(() => fixture.Queue.AddToQueueAsync(new AddToQueueRequest { ChannelId = channel.Id, Content = new Content() }, owner.Headers).ResponseAsync,
            "content");
        await Expect.BadFields(() => ScheduleAsync(owner, channel, "Mars/Olympus", [(8, "25:00")]),
            "schedule.time_zone", "schedule.slots[0].weekday");

        // A contributor's post waits for approval, as it would when created with a time.
        Assert.Equal(PostStatus.PendingApproval, (await AddAsync(contributor, channel, "by a contributor")).Status);

        // A retry with the same request_id returns the first post, though the queue's next slot has moved on.
        var first = await AddAsync(owner, channel, "once", requestId: "queue-once");
        var again = await AddAsync(owner, channel, "once", requestId: "queue-once");
        Assert.Equal(first.Id, again.Id);
        Assert.Equal(first.PublishAt, again.PublishAt);
    }

    [Fact]
    public async Task Schedules_and_queue_adds_have_REST_routes()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        using var put = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Put, $"/api/channels/{channel.Id}/schedule", owner,
            """{"timeZone":"Europe/Paris","slots":[{"weekday":1,"timeOfDay":"09:00"}],"closeGaps":true}"""));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var schedule = await fixture.Queue.GetPostingScheduleAsync(new GetPostingScheduleRequest { ChannelId = channel.Id }, owner.Headers);
        Assert.Equal("Europe/Paris", schedule.TimeZone);
        Assert.True(schedule.CloseGaps);
        Assert.Equal("09:00", Assert.Single(schedule.Slots).TimeOfDay);

        using var add = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Post, $"/api/channels/{channel.Id}/queue", owner, """{"content":{"text":"via REST"}}"""));
        Assert.True(add.IsSuccessStatusCode, await add.Content.ReadAsStringAsync());
        using var slots = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, $"/api/channels/{channel.Id}/schedule/slots?count=2", owner));
        var body = await slots.Content.ReadAsStringAsync();
        Assert.True(slots.IsSuccessStatusCode, body);
        var monday = TimeZoneInfo.ConvertTime((await NextSlotsAsync(owner, channel, 1))[0], Paris);
        Assert.Equal((DayOfWeek.Monday, "09:00"), (monday.DayOfWeek, monday.ToString("HH:mm")));
    }
}
