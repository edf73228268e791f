using SocialSync.Posts.V1;

namespace SocialSync.Contracts;

/// <summary>
/// The platform, status and error-class words as the database, the metrics and the logs spell them (those of the
/// API's original REST contract), and the protos' enums in the API.
/// </summary>
public static class Vocabulary
{
    public static string ToDb(this Platform platform) => platform switch
    {
        Platform.Whatsapp => "whatsapp",
        Platform.Instagram => "instagram",
        _ => throw new ArgumentOutOfRangeException(nameof(platform)),
    };

    public static Platform ToPlatform(string value) => value switch
    {
        "whatsapp" => Platform.Whatsapp,
        "instagram" => Platform.Instagram,
        _ => Platform.Unspecified,
    };

    public static string ToDb(this PostStatus status) => status switch
    {
        PostStatus.Queued => "queued",
        PostStatus.Publishing => "publishing",
        PostStatus.Published => "published",
        PostStatus.Failed => "failed",
        PostStatus.Cancelled => "cancelled",
        PostStatus.Missed => "missed",
        PostStatus.Unconfirmed => "unconfirmed",
        PostStatus.Draft => "draft",
        PostStatus.PendingApproval => "pending_approval",
        PostStatus.Rejected => "rejected",
        PostStatus.Expired => "expired",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static PostStatus ToPostStatus(string value) => value switch
    {
        "queued" => PostStatus.Queued,
        "publishing" => PostStatus.Publishing,
        "published" => PostStatus.Published,
        "failed" => PostStatus.Failed,
        "cancelled" => PostStatus.Cancelled,
        "missed" => PostStatus.Missed,
        "unconfirmed" => PostStatus.Unconfirmed,
        "draft" => PostStatus.Draft,
        "pending_approval" => PostStatus.PendingApproval,
        "rejected" => PostStatus.Rejected,
        "expired" => PostStatus.Expired,
        _ => PostStatus.Unspecified,
    };

    public static ChannelState ToChannelState(string value) => value switch
    {
        "active" => ChannelState.Active,
        "paused" => ChannelState.Paused,
        "needs_reconnect" => ChannelState.NeedsReconnect,
        _ => ChannelState.Unspecified,
    };

    public static string ToDb(this ErrorClass errorClass) => errorClass switch
    {
        ErrorClass.Transient => "transient",
        ErrorClass.RateLimited => "rate_limited",
        ErrorClass.Auth => "auth",
        ErrorClass.Permanent => "permanent",
        ErrorClass.Ambiguous => "ambiguous",
        _ => throw new ArgumentOutOfRangeException(nameof(errorClass)),
    };

    /// <summary>An attempt's outcome as metrics, span tags and logs of every service spell it.</summary>
    public static string ToWord(this OutcomeKind kind) => kind switch
    {
        OutcomeKind.Published => "published",
        OutcomeKind.TransientFailure => "transient_failure",
        OutcomeKind.Deferred => "deferred",
        OutcomeKind.PermanentFailure => "permanent_failure",
        OutcomeKind.AuthFailure => "auth_failure",
        OutcomeKind.Unconfirmed => "unconfirmed",
        OutcomeKind.Held => "held",
        _ => "unspecified",
    };
}
