using Google.Protobuf.WellKnownTypes;

namespace SocialSync.Web.Services;

/// <summary>
/// The time zone the calendar and the composer show times in: the browser's own until the user picks another, kept
/// for the visit so the composer opened from a calendar cell reads the cell's time in the same zone.
/// </summary>
public sealed class DisplayZone
{
    // Offered when the runtime lists no zones of its own.
    private static readonly string[] CommonZones =
    [
        "UTC", "Europe/London", "Europe/Lisbon", "Europe/Madrid", "Europe/Paris", "Europe/Berlin", "Europe/Athens",
        "Africa/Lagos", "Africa/Johannesburg", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
        "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York", "America/Chicago",
        "America/Denver", "America/Los_Angeles", "America/Mexico_City",
    ];

    public TimeZoneInfo Zone { get; private set; } = TimeZoneInfo.Local;

    /// <summary>IANA zone ids to pick from, the current one included.</summary>
    public IReadOnlyList<string> Choices { get; } = ListChoices();

    private static List<string> ListChoices()
    {
        var listed = TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Where(id => id.Contains('/') || id == "UTC").ToList();
        var ids = listed.Count >= CommonZones.Length ? listed : [.. CommonZones];
        if (!ids.Contains(TimeZoneInfo.Local.Id))
        {
            ids.Add(TimeZoneInfo.Local.Id);
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    public void Select(string id) => Zone = TimeZoneInfo.FindSystemTimeZoneById(id);

    public DateTime Now => ToLocal(DateTimeOffset.UtcNow);

    public DateTime ToLocal(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, Zone).DateTime;

    public DateTime ToLocal(Timestamp instant) => ToLocal(instant.ToDateTimeOffset());

    /// <summary>
    /// The instant a wall-clock time in the zone names. A time skipped by a spring-forward change moves forward by
    /// the gap (as the server reads queue slots); a time that occurs twice is its first occurrence.
    /// </summary>
    public DateTimeOffset ToInstant(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(local))
        {
            var gap = Zone.GetUtcOffset(local.AddDays(1)) - Zone.GetUtcOffset(local.AddDays(-1));
            local = local.Add(gap.Duration());
        }
        var offset = Zone.IsAmbiguousTime(local) ? Zone.GetAmbiguousTimeOffsets(local).Max() : Zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }

    public Timestamp ToTimestamp(DateTime local) => Timestamp.FromDateTimeOffset(ToInstant(local));
}
