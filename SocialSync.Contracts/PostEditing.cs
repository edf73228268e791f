using SocialSync.Posts.V1;

namespace SocialSync.Contracts;

/// <summary>
/// Which posts a user may still edit, and why the others may not, in the words PostsService refuses an edit with: the
/// web app asks the same rule before it offers "Edit", so it never offers what the server would refuse.
/// </summary>
public static class PostEditing
{
    /// <summary>
    /// Every status but a post being published (its attempt's outcome must land first) and the final ones
    /// (published, cancelled).
    /// </summary>
    public static readonly IReadOnlyList<PostStatus> Editable =
        [PostStatus.Queued, PostStatus.Failed, PostStatus.Missed, PostStatus.Unconfirmed,
         PostStatus.Draft, PostStatus.PendingApproval, PostStatus.Rejected, PostStatus.Expired];

    public static bool IsEditable(PostStatus status) => Editable.Contains(status);

    /// <summary>Why a post in <paramref name="status"/> cannot be edited; null when it can.</summary>
    public static string? WhyNotEditable(PostStatus status) => IsEditable(status)
        ? null
        : status switch
        {
            PostStatus.Publishing => "The post is being published; it can be edited once the attempt finishes.",
            PostStatus.Published => "A published post cannot be edited.",
            _ => $"A {status.ToDb()} post cannot be edited.",
        };
}
