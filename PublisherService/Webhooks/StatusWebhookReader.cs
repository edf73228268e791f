using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.WhatsApp;

namespace SocialSync.PublisherService.Webhooks;

/// <summary>
/// The WhatsApp message statuses in one Meta webhook (<c>entry[].changes[].value.statuses[]</c>), each with the post
/// and attempt its send named in <c>biz_opaque_callback_data</c>. Statuses of sends SocialSync did not make (no or a
/// foreign callback) and other fields (incoming messages) are counted as ignored.
/// </summary>
public static class StatusWebhookReader
{
    public static (List<DeliveryStatus> Statuses, int Ignored) Read(JsonElement root)
    {
        var statuses = new List<DeliveryStatus>();
        var ignored = 0;
        foreach (var entry in Array(root, "entry"))
        {
            foreach (var change in Array(entry, "changes"))
            {
                if (!change.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object)
                {
                    ignored++;
                    continue;
                }
                foreach (var item in Array(value, "statuses"))
                {
                    if (Parse(item) is { } status)
                    {
                        statuses.Add(status);
                    }
                    else
                    {
                        ignored++;
                    }
                }
            }
        }
        return (statuses, ignored);
    }

    private static DeliveryStatus? Parse(JsonElement item)
    {
        var callback = Text(item, "biz_opaque_callback_data");
        var wamid = Text(item, "id");
        var state = Text(item, "status") switch
        {
            "sent" => DeliveryState.Sent,
            "delivered" => DeliveryState.Delivered,
            "read" => DeliveryState.Read,
            "failed" => DeliveryState.Failed,
            _ => DeliveryState.Unspecified,
        };
        if (!WhatsAppCallback.TryParse(callback, out var postId, out var attempt) || string.IsNullOrEmpty(wamid) || state == DeliveryState.Unspecified)
        {
            return null;
        }
        var status = new DeliveryStatus
        {
            PostId = postId,
            Attempt = attempt,
            CallbackRef = callback,
            Wamid = wamid,
            RecipientId = Text(item, "recipient_id") ?? "",
            State = state,
            StatusTime = long.TryParse(Text(item, "timestamp"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                ? Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeSeconds(seconds))
                : null,
        };
        if (Array(item, "errors").FirstOrDefault() is { ValueKind: JsonValueKind.Object } error)
        {
            status.ErrorCode = error.TryGetProperty("code", out var code) && code.TryGetInt32(out var number) ? number : 0;
            status.ErrorTitle = Text(error, "title") ?? Text(error, "message") ?? "";
        }
        return status;
    }

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : [];

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
