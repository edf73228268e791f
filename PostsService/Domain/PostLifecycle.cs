using System.Collections.Frozen;
using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// The life of a scheduled post, in one place: which status may follow which, and which statuses a user may still
/// edit, cancel or delete. Validation asks it, and the stores build their SQL guards from it
/// (<c>where status = any(@editable)</c>), so a rule is written once.
/// <code>
///   queued ──claim──▶ publishing ──outcome──▶ published | failed | unconfirmed
///     │  ╲                 └──retry, deferral, hold, expired lease──▶ queued
///     │   ╲──claim beyond the misfire window──▶ missed
///   queued | failed | missed | unconfirmed ──edit──▶ queued     (failed, missed, unconfirmed: queued again)
///   queued | failed | missed | unconfirmed ──cancel──▶ cancelled
///   published, cancelled: final
///
/// Review (a post that needs approval, or a draft):
///   draft | rejected | expired ──submit──▶ pending_approval (needs approval) | queued
///   pending_approval ──approve (the version reviewed)──▶ queued ──any edit of what it publishes──▶ pending_approval
///   pending_approval ──reject (with a reason)──▶ rejected ──edit──▶ draft
///   pending_approval ──its time passes──▶ expired
/// </code>
/// </summary>
public static class PostLifecycle
{
    /// <summary>The statuses a user may still change, by an edit or a cancel (the web app offers "Edit" by the same list).</summary>
    public static readonly IReadOnlyList<PostStatus> Editable = PostEditing.Editable;

    /// <summary>An edit and a cancel are refused in the same statuses.</summary>
    public static readonly IReadOnlyList<PostStatus> Cancellable = Editable;

    /// <summary>The statuses of a post that is not scheduled until someone sends it on (SubmitPost).</summary>
    public static readonly IReadOnlyList<PostStatus> Submittable = [PostStatus.Draft, PostStatus.Rejected, PostStatus.Expired];

    /// <summary>
    /// The statuses in which a contributor may still change their own post: before it is approved (the database's
    /// policies hold the same list, migration 0016_drafts_and_approval.sql).
    /// </summary>
    public static readonly IReadOnlyList<PostStatus> Unapproved = [PostStatus.Draft, PostStatus.PendingApproval, PostStatus.Rejected, PostStatus.Expired];

    /// <summary>A post may be deleted unless it is being published.</summary>
    public static readonly IReadOnlyList<PostStatus> Deletable = [.. Known.Where(s => s != PostStatus.Publishing)];

    private static IEnumerable<PostStatus> Known =>
        System.Enum.GetValues<PostStatus>().Where(s => s != PostStatus.Unspecified);

    private static readonly FrozenSet<(PostStatus From, PostStatus To)> Transitions = new (PostStatus, PostStatus)[]
    {
        (PostStatus.Queued, PostStatus.Publishing),      // claimed at its due time
        (PostStatus.Queued, PostStatus.Missed),          // found overdue beyond the misfire window
        (PostStatus.Publishing, PostStatus.Published),   // the attempt's outcomes
        (PostStatus.Publishing, PostStatus.Failed),
        (PostStatus.Publishing, PostStatus.Unconfirmed),
        (PostStatus.Publishing, PostStatus.Queued),      // a retry, a deferral, a hold, or its lease expired
        (PostStatus.PendingApproval, PostStatus.Queued), // approved
        (PostStatus.PendingApproval, PostStatus.Rejected),
        (PostStatus.PendingApproval, PostStatus.Expired), // its time passed while it waited
        (PostStatus.Queued, PostStatus.PendingApproval), // what it publishes changed after its approval
    }
        .Concat(Submittable.SelectMany(s => new[] { (s, PostStatus.PendingApproval), (s, PostStatus.Queued) }))
        .Concat(Editable.Select(s => (s, AfterEdit(s))))
        .Concat(Cancellable.Select(s => (s, PostStatus.Cancelled)))
        .ToFrozenSet();

    /// <summary>Whether a post in <paramref name="from"/> may move to <paramref name="to"/>.</summary>
    public static bool IsLegal(PostStatus from, PostStatus to) => Transitions.Contains((from, to));

    public static bool IsEditable(PostStatus status) => Editable.Contains(status);

    public static bool IsCancellable(PostStatus status) => Cancellable.Contains(status);

    /// <summary>Whether editing a post in <paramref name="status"/> queues it again (retries reset, error cleared).</summary>
    public static bool EditRequeues(PostStatus status) => IsEditable(status) && status != PostStatus.Queued;

    /// <summary>
    /// The status an edit leaves a post in: a draft stays one, a rejected or expired post goes back to its author as a
    /// draft, a pending post stays pending, and the rest are queued (a post that needs approval then goes back to
    /// pending_approval unless what it publishes is what was approved: the database's hold_unapproved_post).
    /// </summary>
    public static PostStatus AfterEdit(PostStatus status) => status switch
    {
        PostStatus.Draft or PostStatus.Rejected or PostStatus.Expired => PostStatus.Draft,
        PostStatus.PendingApproval => PostStatus.PendingApproval,
        _ => PostStatus.Queued,
    };

    /// <summary>Whether a post in <paramref name="status"/> has finished an attempt for good, so a recurring series goes on.</summary>
    public static bool EndsOccurrence(PostStatus status) =>
        status is PostStatus.Published or PostStatus.Failed or PostStatus.Unconfirmed;

    /// <summary>The database words of <paramref name="statuses"/>, for a guard such as <c>status = any(@editable)</c>.</summary>
    public static string[] Words(IEnumerable<PostStatus> statuses) => [.. statuses.Select(s => s.ToDb())];

    /// <summary>Refuses an edit of a post in <paramref name="status"/> unless the lifecycle allows it; says whether it requeues.</summary>
    public static bool CheckEdit(PostStatus status) => PostEditing.WhyNotEditable(status) is { } refusal
        ? throw new FailedPreconditionException(refusal)
        : EditRequeues(status);

    /// <summary>Why a cancel found the post in <paramref name="status"/> at <paramref name="version"/> did not apply.</summary>
    public static DomainException CancelRefused(PostStatus status, int version, int? etag) =>
        etag is { } expected && expected != version && IsCancellable(status)
            ? ConcurrentChangeException.StaleEtag("post")
            : status switch
            {
                PostStatus.Cancelled => new FailedPreconditionException("The post is already cancelled."),
                PostStatus.Published => new FailedPreconditionException("A published post cannot be cancelled."),
                _ => new FailedPreconditionException($"The post is {status.ToDb()}; it can be cancelled once the attempt finishes."),
            };

    /// <summary>Why a delete guarded by the lifecycle and the etag found the post in <paramref name="status"/> did not apply.</summary>
    public static DomainException DeleteRefused(PostStatus status) => Deletable.Contains(status)
        ? ConcurrentChangeException.StaleEtag("post")
        : new FailedPreconditionException("The post is being published; it can be deleted once the attempt finishes.");

    /// <summary>Why an edit's guarded write found the post changed to <paramref name="status"/> since it was read.</summary>
    public static DomainException EditRaceLost(PostStatus status) => IsEditable(status)
        ? ConcurrentChangeException.StaleEtag("post")
        : new FailedPreconditionException($"The post became {status.ToDb()} while it was being edited.");
}
