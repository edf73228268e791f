using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

/// <summary>What a calendar cell shows: a post, a free queue slot of a channel, or a later occurrence of a recurring series.</summary>
public enum CalendarEntryKind
{
    Post,
    QueueSlot,
    Occurrence,
}

/// <summary>One thing on the calendar at a wall-clock time of the display zone.</summary>
public sealed record CalendarEntry(CalendarEntryKind Kind, DateTime LocalTime, ScheduledPost? Post, Channel? Channel)
{
    /// <summary>Statuses a drag may move: not yet out, or failed for good. An unconfirmed post may have gone out, so it stays.</summary>
    private static readonly PostStatus[] Movable =
        [PostStatus.Queued, PostStatus.Draft, PostStatus.PendingApproval, PostStatus.Rejected, PostStatus.Expired, PostStatus.Failed, PostStatus.Missed];

    public bool CanMove => Kind == CalendarEntryKind.Post && Post is not null && Movable.Contains(Post.Status);

    public string ChannelName => Channel is null ? "" : string.IsNullOrEmpty(Channel.DisplayName) ? Channel.AccountId : Channel.DisplayName;

    /// <summary>The start of the entry's hour: the key of its week-view cell.</summary>
    public DateTime Hour => LocalTime.Date.AddHours(LocalTime.Hour);
}
