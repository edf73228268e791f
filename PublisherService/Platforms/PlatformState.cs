using System.Text.Json;
using System.Text.Json.Serialization;

namespace SocialSync.PublisherService.Platforms;

/// <summary>
/// A platform's state between attempts, kept as JSON in the post's platform_state: what was already sent or created,
/// so a later attempt sends only what is missing. Missing or unreadable state is a fresh start.
/// </summary>
public static class PlatformState
{
    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static T Parse<T>(string json) where T : new()
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new T();
        }
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? new T();
        }
        catch (JsonException)
        {
            return new T();
        }
    }

    public static string ToJson<T>(T state) => JsonSerializer.Serialize(state, Options);
}
