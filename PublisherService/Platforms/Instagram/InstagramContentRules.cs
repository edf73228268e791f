using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// What Instagram accepts in each mode, checked again before a container is made. PostsService checks the same rules
/// when a post is created (its ContentRules); this is the one place here that repeats them, to be replaced by a call
/// to the shared rules once both services can see them.
/// </summary>
internal static class InstagramContentRules
{
    public const int CarouselMaxItems = 10;

    /// <summary>Why <paramref name="content"/> cannot be posted in <paramref name="mode"/>, or null when it can.</summary>
    public static string? Violation(Content content, InstagramMode mode)
    {
        var media = content.Media;
        if (media.Count == 0)
        {
            return "Instagram posts need at least one image or video.";
        }
        if (media.Any(m => m.Type is not (MediaType.Image or MediaType.Video)))
        {
            return "Instagram accepts images and videos only.";
        }
        return mode switch
        {
            InstagramMode.Reel => media is [{ Type: MediaType.Video }] ? null : "A reel is exactly one video.",
            InstagramMode.Story => media.Count == 1 ? null : "A story is exactly one image or video.",
            _ => media.Count > CarouselMaxItems ? $"An Instagram carousel has at most {CarouselMaxItems} items." : null,
        };
    }
}
