using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

/// <summary>The composer's values over the post it edits.</summary>
public sealed record PostEditValues(Content Content, DateTime LocalPublishAt, Timestamp PublishAt, string TimeZone, string Rule, IReadOnlyList<string> Recipients);

/// <summary>
/// The UpdatePost an edit in the composer sends: only the fields that changed are in its update_mask, so a field the
/// user did not touch is never written back over a change made meanwhile (the etag refuses a stale edit besides).
/// </summary>
public static class PostUpdate
{
    /// <summary>The update of <paramref name="original"/> (shown at <paramref name="originalLocal"/>) to <paramref name="edited"/>; null when nothing changed.</summary>
    public static UpdatePostRequest? Between(ScheduledPost original, DateTime originalLocal, PostEditValues edited)
    {
        var request = new UpdatePostRequest { Id = original.Id, Etag = original.Etag, UpdateMask = new FieldMask() };
        if (!edited.Content.Equals(original.Content ?? new Content()))
        {
            request.Content = edited.Content;
            request.UpdateMask.Paths.Add("content");
        }
        var moved = edited.LocalPublishAt != originalLocal;
        if (moved)
        {
            request.PublishAt = edited.PublishAt;
            request.UpdateMask.Paths.Add("publish_at");
        }
        var ruleChanged = edited.Rule != original.Rrule;
        if (ruleChanged)
        {
            request.Rrule = edited.Rule;
            request.UpdateMask.Paths.Add("rrule");
        }
        // A time or rule chosen in the composer's zone is a time in that zone: the post takes it (its recurrence
        // follows it); an edit of the text alone leaves the post's zone as it was.
        if ((moved || ruleChanged) && edited.TimeZone != original.TimeZone)
        {
            request.TimeZone = edited.TimeZone;
            request.UpdateMask.Paths.Add("time_zone");
        }
        if (!edited.Recipients.SequenceEqual(original.Recipients))
        {
            request.Recipients.Add(edited.Recipients);
            request.UpdateMask.Paths.Add("recipients");
        }
        return request.UpdateMask.Paths.Count == 0 ? null : request;
    }
}
