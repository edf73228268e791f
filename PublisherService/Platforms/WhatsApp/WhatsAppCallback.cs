using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// The <c>biz_opaque_callback_data</c> every WhatsApp send carries, and WhatsApp echoes in the message's status
/// webhooks: <c>socialsync:{post id}:{attempt}:{recipient}#{step}</c>, naming the one send (512 characters at most).
/// </summary>
public static class WhatsAppCallback
{
    private const string Prefix = "socialsync:";

    public static string Format(string postId, int attempt, string sendKey) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{postId}:{attempt}:{sendKey}");

    /// <summary>The post and attempt a callback names; false for one SocialSync did not write.</summary>
    public static bool TryParse(string? callback, out string postId, out int attempt)
    {
        postId = "";
        attempt = 0;
        if (callback is null || !callback.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = callback[Prefix.Length..].Split(':', 3);
        if (parts.Length != 3 || !Guid.TryParse(parts[0], out _)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out attempt) || attempt <= 0)
        {
            return false;
        }
        postId = parts[0];
        return true;
    }

    /// <summary>The message with <c>biz_opaque_callback_data</c> set to <paramref name="callback"/>.</summary>
    public static JsonObject Attach(object message, string callback)
    {
        var json = JsonSerializer.SerializeToNode(message)!.AsObject();
        json["biz_opaque_callback_data"] = callback;
        return json;
    }
}
