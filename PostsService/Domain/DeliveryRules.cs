using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// How a message's delivery statuses combine: a status only moves forward, in <see cref="Order"/>, whatever order the
/// webhooks arrive in and however often, so every replica and every repeat converges on the same row. <c>failed</c>
/// is last: WhatsApp reports it instead of delivered/read, never before them, and it must not be lost to a late
/// <c>sent</c>.
/// </summary>
public static class DeliveryRules
{
    /// <summary>The database words of the states, earliest first (the SQL compares positions in this array).</summary>
    public static readonly string[] Order = ["sent", "delivered", "read", "failed"];

    public static string? ToDb(DeliveryState state) => state switch
    {
        DeliveryState.Sent => "sent",
        DeliveryState.Delivered => "delivered",
        DeliveryState.Read => "read",
        DeliveryState.Failed => "failed",
        _ => null,
    };

    /// <summary>The state a database word names (<see cref="ToDb"/> read back).</summary>
    public static DeliveryState FromDb(string word) =>
        System.Enum.GetValues<DeliveryState>().FirstOrDefault(state => ToDb(state) == word);
}
