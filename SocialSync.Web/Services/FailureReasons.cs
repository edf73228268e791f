using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

/// <summary>
/// Why a post did not go out, in words, from its last run's error class (the classes PublisherService sorts a
/// platform's errors into), and what the user can do about it. The one place the studio words them.
/// </summary>
public static class FailureReasons
{
    /// <summary>A reason in words and the advice that goes with it.</summary>
    public sealed record Reason(string Title, string Advice);

    /// <summary>Why <paramref name="post"/> did not go out, from its status and its latest run's error class (ListPosts fills <c>last_error_class</c>).</summary>
    public static Reason For(ScheduledPost post, string? lastErrorClass) => post.Status switch
    {
        PostStatus.Unconfirmed => Unconfirmed,
        PostStatus.Missed => Missed,
        _ => ForClass(ErrorClassOf(lastErrorClass)),
    };

    /// <summary>The words of an error class (a run's <c>error_class</c>); an unknown or empty one reads as "not known".</summary>
    public static Reason ForClass(ErrorClass? errorClass) => errorClass switch
    {
        ErrorClass.Transient => new("The platform kept failing for a while",
            "WhatsApp or Instagram answered with a temporary error on every retry. Retry now, or reschedule it for later."),
        ErrorClass.RateLimited => new("The platform asked us to slow down",
            "Too many posts went to this account in a short time. Reschedule it a little later."),
        ErrorClass.Auth => new("The channel's access was refused",
            "The account's token expired or was revoked. Reconnect the channel on the Channels page, then retry."),
        ErrorClass.Permanent => new("The platform refused the post",
            "Retrying the same post will not help: check its text and media against the platform's rules, edit it, then reschedule."),
        ErrorClass.Ambiguous => Unconfirmed,
        _ => new("The reason is not known", "Open the post to see its runs and history."),
    };

    private static readonly Reason Unconfirmed = new("It may have gone out: the platform never answered",
        "Do not send it again blindly. Look at the WhatsApp chat or the Instagram account first: if the post is there, " +
        "it was published; if it is not, open the post and schedule it again on purpose.");

    private static readonly Reason Missed = new("It missed its time",
        "Nothing was sent: SocialSync could not publish it close enough to its time. Reschedule it.");

    public static ErrorClass? ErrorClassOf(string? word) =>
        Enum.GetValues<ErrorClass>().Cast<ErrorClass?>().FirstOrDefault(c => c!.Value.ToDb() == word);
}
