namespace SocialSync.GraphApiEmulator.State;

/// <summary>An Instagram media container (IG Container / ShadowIGMediaBuilder).</summary>
public sealed class Container
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public required string Id { get; init; }

    public required string Account { get; init; }

    /// <summary>IMAGE, VIDEO (carousel item), REELS, STORIES or CAROUSEL.</summary>
    public required string MediaType { get; init; }

    public bool IsCarouselItem { get; init; }

    public bool IsVideo { get; init; }

    public string? Caption { get; init; }

    public string? ImageUrl { get; init; }

    public string? VideoUrl { get; init; }

    public IReadOnlyList<Container> Children { get; init; } = [];

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Virtual time processing finishes; null means it never finishes.</summary>
    public DateTimeOffset? ReadyAt { get; set; }

    /// <summary>When set, the container ends in ERROR with this subcode once processing is over.</summary>
    public int? ErrorSubcode { get; set; }

    public string? PublishedMediaId { get; set; }

    public Lock Sync { get; } = new();

    public string StatusCode(DateTimeOffset now)
    {
        if (PublishedMediaId is not null)
        {
            return "PUBLISHED";
        }

        if (now - CreatedAt >= Lifetime)
        {
            return "EXPIRED";
        }

        string own;
        if (ReadyAt is not { } ready || now < ready)
        {
            own = "IN_PROGRESS";
        }
        else
        {
            own = ErrorSubcode is null ? "FINISHED" : "ERROR";
        }

        if (Children.Count == 0 || own != "FINISHED")
        {
            return own;
        }

        var anyInProgress = false;
        foreach (var child in Children)
        {
            var status = child.StatusCode(now);
            if (status is "ERROR" or "EXPIRED")
            {
                return "ERROR";
            }

            anyInProgress |= status == "IN_PROGRESS";
        }

        return anyInProgress ? "IN_PROGRESS" : "FINISHED";
    }

    public string StatusText(DateTimeOffset now) => StatusCode(now) switch
    {
        "PUBLISHED" => "Published: Media has been published.",
        "EXPIRED" => "Expired: Media was not published within 24 hours.",
        "IN_PROGRESS" => "In Progress: Media is still being processed.",
        "ERROR" => $"Error: Media upload has failed with error code {FirstErrorSubcode() ?? 2207001}",
        _ => "Finished: Media has been uploaded and it is ready to be published.",
    };

    private int? FirstErrorSubcode()
    {
        if (ErrorSubcode is not null)
        {
            return ErrorSubcode;
        }

        foreach (var child in Children)
        {
            if (child.ErrorSubcode is { } subcode)
            {
                return subcode;
            }
        }

        return Children.Count > 0 ? 2207020 : null;
    }
}

/// <summary>A published Instagram media object.</summary>
public sealed class Media
{
    public required string Id { get; init; }

    public required string Account { get; init; }

    public required string ContainerId { get; init; }

    /// <summary>IMAGE, VIDEO or CAROUSEL_ALBUM (as IG Media reports it).</summary>
    public required string MediaType { get; init; }

    /// <summary>FEED, REELS or STORY.</summary>
    public required string ProductType { get; init; }

    public string? Caption { get; init; }

    public string? MediaUrl { get; init; }

    /// <summary>When the media was published; tests may move it (<c>PUT /__emu/published-media/{id}</c>) to build a history.</summary>
    public required DateTimeOffset Timestamp { get; set; }

    public required string Shortcode { get; init; }

    public string Permalink => $"https://www.instagram.com/p/{Shortcode}/";

    public IReadOnlyList<string> ChildMediaIds { get; init; } = [];
}
