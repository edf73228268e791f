using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Tests;

/// <summary>The DST rule of posting schedules (<see cref="PostingSlots"/>), on fixed dates.</summary>
public sealed class PostingSlotsTests
{
    private static PostingSlots Sundays(string zone, params string[] times) =>
        new(TimeZoneInfo.FindSystemTimeZoneById(zone), [.. times.Select(t => new WeeklySlot(DayOfWeek.Sunday, TimeOnly.Parse(t, System.Globalization.CultureInfo.InvariantCulture)))]);

    private static DateTimeOffset Utc(int month, int day, int hour, int minute) => new(2027, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void A_time_in_the_spring_forward_gap_moves_on_by_the_gap_and_merges_with_the_slot_already_there()
    {
        // Paris, 28 March 2027: 02:00 CET jumps to 03:00 CEST. 02:30 becomes 03:30 CEST (01:30 UTC), the same instant as the 03:30 slot.
        var slots = Sundays("Europe/Paris", "02:30", "03:30").From(Utc(3, 27, 0, 0)).Take(3).ToList();
        Assert.Equal([Utc(3, 28, 1, 30), Utc(4, 4, 0, 30), Utc(4, 4, 1, 30)], slots);
    }

    [Fact]
    public void A_time_that_happens_twice_on_a_fall_back_day_is_one_slot_at_its_first_occurrence()
    {
        // New York, 7 November 2027: 02:00 EDT falls back to 01:00 EST; 01:30 happens at 05:30 and 06:30 UTC.
        var slots = Sundays("America/New_York", "01:30").From(Utc(11, 6, 0, 0)).Take(2).ToList();
        Assert.Equal([Utc(11, 7, 5, 30), Utc(11, 14, 6, 30)], slots);
    }

    [Fact]
    public void Weekly_times_round_trip_their_stored_form_and_bad_ones_are_named()
    {
        var violations = new FieldViolations();
        var parsed = PostingSlots.Parse([(7, "02:30"), (1, "09:00"), (1, "9:00"), (0, "10:00")], "slots", violations);
        Assert.Equal(["slots[2].time_of_day", "slots[3].weekday"], violations.All.Select(v => v.Field));
        Assert.Equal(["1 09:00", "7 02:30"], parsed.Select(s => s.ToDb()));
        Assert.Equal(parsed, parsed.Select(s => WeeklySlot.FromDb(s.ToDb())));
    }
}
