using System.Text.Json.Serialization;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>What earlier attempts sent: "recipient#step" → wamid, and whether the one resend was used.</summary>
internal sealed class WhatsAppState
{
    [JsonPropertyName("sent")]
    public Dictionary<string, string> Sent { get; set; } = [];

    [JsonPropertyName("resent")]
    public bool Resent { get; set; }

    public static WhatsAppState Parse(string json) => PlatformState.Parse<WhatsAppState>(json);

    public string ToJson() => PlatformState.ToJson(this);
}
