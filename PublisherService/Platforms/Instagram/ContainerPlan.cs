using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// The containers a post needs in its mode: a carousel's items (created and finished first), then the parent; or why
/// the post cannot be made (<see cref="InstagramContentRules"/>).
/// </summary>
internal sealed record ContainerPlan(IReadOnlyList<Dictionary<string, object>> Children, Dictionary<string, object> Parent, string? Error)
{
    public static ContainerPlan Single(Dictionary<string, object> parent) => new([], parent, null);

    public static ContainerPlan Invalid(string error) => new([], [], error);

    public static ContainerPlan For(Content content, InstagramMode mode)
    {
        if (InstagramContentRules.Violation(content, mode) is { } error)
        {
            return Invalid(error);
        }
        var media = content.Media;
        var caption = content.Text;
        switch (mode)
        {
            case InstagramMode.Reel:
                return Single(Reel(media[0].Url, caption));
            case InstagramMode.Story:
                var story = new Dictionary<string, object> { ["media_type"] = "STORIES" };
                story[media[0].Type == MediaType.Video ? "video_url" : "image_url"] = media[0].Url;
                return Single(story);
        }

        if (media.Count == 1)
        {
            // A single feed video is a reel shared to the feed: Meta no longer accepts media_type=VIDEO there.
            return Single(media[0].Type == MediaType.Video
                ? Reel(media[0].Url, caption)
                : WithCaption(new Dictionary<string, object> { ["image_url"] = media[0].Url }, caption));
        }
        var children = media.Select(m => m.Type == MediaType.Video
            ? new Dictionary<string, object> { ["media_type"] = "VIDEO", ["video_url"] = m.Url, ["is_carousel_item"] = true }
            : new Dictionary<string, object> { ["image_url"] = m.Url, ["is_carousel_item"] = true }).ToList();
        return new ContainerPlan(children, WithCaption(new Dictionary<string, object> { ["media_type"] = "CAROUSEL" }, caption), null);
    }

    private static Dictionary<string, object> Reel(string url, string caption) =>
        WithCaption(new Dictionary<string, object> { ["media_type"] = "REELS", ["video_url"] = url, ["share_to_feed"] = true }, caption);

    private static Dictionary<string, object> WithCaption(Dictionary<string, object> body, string caption)
    {
        if (!string.IsNullOrEmpty(caption))
        {
            body["caption"] = caption;
        }
        return body;
    }
}
