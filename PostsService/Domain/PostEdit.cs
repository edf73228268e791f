using SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Domain;

/// <summary>What an edit needs to know of the post it changes, as read in the edit's transaction.</summary>
public sealed record EditablePost(PostStatus Status, int Version, Guid ChannelId, DateTimeOffset PublishAt, DateTimeOffset DueAt,
    string? TimeZone, string? Rrule);

/// <summary>The values an edit writes; <see cref="Content"/> is null when the content stays as it is.</summary>
public sealed record PostChanges(Content? Content, DateTimeOffset PublishAt, DateTimeOffset DueAt, string? TimeZone, string? Rrule,
    bool Reanchor, bool Requeue)
{
    /// <summary>True when the edit sets the post's own recipients to <see cref="Recipients"/> (null: the channel's again).</summary>
    public bool ChangesRecipients { get; init; }

    public string[]? Recipients { get; init; }
}

/// <summary>
/// An UpdatePost request, checked in everything that needs no database (the fields it changes are <see cref="Paths"/>).
/// A queued post is edited in place; a failed, missed or unconfirmed one is queued again (retries reset, error
/// cleared) at its publish_at, which must then be in the future; others are refused (<see cref="PostLifecycle"/>).
/// </summary>
public sealed record PostEdit(Guid PostId, int? Etag, IReadOnlySet<string> Paths, Content? Content, DateTimeOffset? NewPublishAt,
    string? NewTimeZone, string? NewRule, DateTimeOffset Now)
{
    public static readonly IReadOnlyList<string> Updatable = ["content", "publish_at", "time_zone", "rrule", "recipients"];

    /// <summary>The post's own WhatsApp recipients when <see cref="Paths"/> holds "recipients" (empty: the channel's again).</summary>
    public IReadOnlyList<string> Recipients { get; init; } = [];

    /// <summary>Refuses the edit of <paramref name="current"/> (stale etag, a status that cannot be edited); says whether it requeues.</summary>
    public bool Admit(EditablePost current)
    {
        if (Etag is { } expected && expected != current.Version)
        {
            throw ConcurrentChangeException.StaleEtag("post");
        }
        return PostLifecycle.CheckEdit(current.Status);
    }

    /// <summary>The values to write over <paramref name="current"/>, on <paramref name="channel"/> (null once deleted).</summary>
    public PostChanges Apply(EditablePost current, Channel? channel, bool requeue)
    {
        if (channel is null)
        {
            throw new FailedPreconditionException("The post's channel was deleted; the post cannot be edited.");
        }
        var violations = new FieldViolations();
        if (Paths.Contains("content"))
        {
            ContentRules.CheckForChannel(Content!, channel.Platform, channel.Settings, "content", violations);
        }
        if (Paths.Contains("recipients"))
        {
            ChannelSettingsRules.CheckPostRecipients(Recipients, channel.Platform, "recipients", violations);
        }
        var publishAt = NewPublishAt ?? current.PublishAt;
        if (requeue && PublishWindow.IsPast(publishAt, Now))
        {
            violations.Add("publish_at", $"must be moved into the future to queue this {current.Status.ToDb()} post again");
        }
        var timeZone = Paths.Contains("time_zone") ? NewTimeZone : current.TimeZone;
        var rule = Paths.Contains("rrule") ? NewRule : current.Rrule;
        var recurrenceChanged = Paths.Contains("rrule") || Paths.Contains("time_zone");
        if (rule is not null && (recurrenceChanged || NewPublishAt is not null) && !violations.Any)
        {
            Recurrence.CheckEvaluates(rule, timeZone, publishAt, "rrule", violations);
        }
        violations.ThrowIfAny();
        return new PostChanges(
            Paths.Contains("content") ? Content : null,
            publishAt,
            // Moving publish_at (or queueing again) moves due_at, so the outbox trigger re-indexes the post.
            NewPublishAt is not null || requeue ? publishAt : current.DueAt,
            timeZone,
            rule,
            // A changed rule or zone starts the series afresh from this post; moving one later occurrence moves only it.
            Reanchor: recurrenceChanged,
            requeue)
        {
            ChangesRecipients = Paths.Contains("recipients"),
            Recipients = Recipients.Count > 0 ? [.. Recipients] : null,
        };
    }
}
