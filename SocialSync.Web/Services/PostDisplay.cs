using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

/// <summary>How a post reads on the calendar: its channel's mark, its local time, an excerpt and its status word.</summary>
public static class PostDisplay
{
    public static string PlatformMark(Platform platform) => platform switch
    {
        Platform.Whatsapp => "WhatsApp",
        Platform.Instagram => "Instagram",
        _ => "?",
    };

    /// <summary>The status as a CSS class and a word: queued, published, failed, pending_approval...</summary>
    public static string StatusWord(PostStatus status) =>
        System.Text.RegularExpressions.Regex.Replace(status.ToString(), "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();

    public static string Excerpt(ScheduledPost post, int length = 40)
    {
        var text = post.Content?.Text ?? "";
        return text.Length <= length ? text : text[..length] + "…";
    }

    public static DateTime LocalTime(ScheduledPost post) => post.PublishAt.ToDateTimeOffset().ToLocalTime().DateTime;
}
