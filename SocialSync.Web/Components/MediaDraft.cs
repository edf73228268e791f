using SocialSync.Posts.V1;

namespace SocialSync.Web.Components;

/// <summary>One media item as the composer edits it.</summary>
public sealed class MediaDraft
{
    public MediaType Type { get; set; } = MediaType.Image;

    public string Url { get; set; } = "";
}
