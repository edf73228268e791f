using System.Text.Json;
using System.Text.Json.Serialization;

namespace SocialSync.PublisherService.Platforms.Meta;

/// <summary>Meta's error envelope: {"error": {"message", "type", "code", "error_subcode", "is_transient", ...}}.</summary>
public sealed record GraphApiError(
    [property: JsonPropertyName("message")] string? Message,
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("error_subcode")] int? Subcode,
    [property: JsonPropertyName("is_transient")] bool? IsTransient,
    [property: JsonPropertyName("error_user_msg")] string? UserMessage,
    [property: JsonPropertyName("fbtrace_id")] string? TraceId)
{
    private sealed record Envelope([property: JsonPropertyName("error")] GraphApiError? Error);

    /// <summary>The error of a non-success response; a body that is not Meta's envelope yields null.</summary>
    public static GraphApiError? TryParse(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<Envelope>(body)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public string Describe() => Subcode is { } sub
        ? $"Meta error {Code}/{sub}: {Message}"
        : $"Meta error {Code}: {Message}";
}
