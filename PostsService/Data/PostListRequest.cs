using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>What a list of posts may be narrowed to; null means any.</summary>
public sealed record PostFilter(PostStatus? Status, Platform? Platform, Guid? ChannelId)
{
    public Guid? WorkspaceId { get; init; }

    /// <summary>Publish times from (inclusive); null means no lower bound.</summary>
    public DateTimeOffset? PublishFrom { get; init; }

    /// <summary>Publish times before (exclusive); null means no upper bound.</summary>
    public DateTimeOffset? PublishBefore { get; init; }
}

/// <summary>The sort key of a post in a list (publish_at, then id, both descending): where the next page starts.</summary>
public sealed record PostPosition(DateTimeOffset PublishAt, Guid Id);

/// <summary>
/// Which page of a list to read: <see cref="Size"/> posts after <see cref="After"/> (a page token's position), or
/// from the start skipping <see cref="Offset"/> posts (the original REST contract's ?offset=); the count of every
/// match only when <see cref="CountTotal"/>.
/// </summary>
public sealed record PostPageRequest(int Size, PostPosition? After = null, int Offset = 0, bool CountTotal = false);
