using SocialSync.Posts.V1;

namespace SocialSync.Contracts;

/// <summary>What a channel's state means for its posts, as PostsService and PublisherService must both read it.</summary>
public static class ChannelStates
{
    /// <summary>
    /// True when the channel's queued posts wait for it (paused by its user, or its token rejected by the platform):
    /// they are out of the scheduler's index, never claimed, and go back at their due time when it is released. Any
    /// other state publishes. The SQL twin is the function holds_posts (migration 0010_channel_holds.sql).
    /// </summary>
    public static bool HoldsPosts(ChannelState state) => state is ChannelState.Paused or ChannelState.NeedsReconnect;
}
