using System.Text.Json.Serialization;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>What earlier attempts left on Instagram: the container (and carousel items), the media id once published.</summary>
internal sealed class InstagramState
{
    [JsonPropertyName("container_id")]
    public string? ContainerId { get; set; }

    [JsonPropertyName("container_created_at")]
    public DateTimeOffset? ContainerCreatedAt { get; set; }

    [JsonPropertyName("children")]
    public List<string> Children { get; set; } = [];

    [JsonPropertyName("media_id")]
    public string? MediaId { get; set; }

    [JsonPropertyName("permalink")]
    public string? Permalink { get; set; }

    /// <summary>Reconciliation found the container PUBLISHED but Meta gave no media id: the container id stands in.</summary>
    [JsonPropertyName("published_container_only")]
    public bool PublishedContainerOnly { get; set; }

    public void ForgetContainer()
    {
        ContainerId = null;
        ContainerCreatedAt = null;
        Children.Clear();
    }

    public static InstagramState Parse(string json) => PlatformState.Parse<InstagramState>(json);

    public string ToJson() => PlatformState.ToJson(this);
}

/// <summary>Direct-message mode: step → message_id of every message already sent.</summary>
internal sealed class DirectMessageState
{
    [JsonPropertyName("sent")]
    public Dictionary<string, string> Sent { get; set; } = [];

    public static DirectMessageState Parse(string json) => PlatformState.Parse<DirectMessageState>(json);

    public string ToJson() => PlatformState.ToJson(this);
}
