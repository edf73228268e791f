using System.Globalization;
using System.Text.Json.Nodes;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>WhatsApp Cloud API: <c>POST /{ver}/{phone_number_id}/messages</c>.</summary>
public static class WhatsAppApi
{
    public const int MaxTextLength = 4096;
    public const int MaxCaptionLength = 1024;

    private static readonly HashSet<string> MediaTypes = ["image", "video", "document", "audio", "sticker"];

    private static readonly HashSet<string> OtherTypes = ["interactive", "location", "contacts", "reaction"];

    public static GraphResponse Send(EmulatorState state, GraphRequest request, string phoneNumberId, DateTimeOffset now, long requestSeq)
    {
        var p = request.Params;
        var product = request.Str("messaging_product");
        if (string.IsNullOrEmpty(product))
        {
            return Invalid("The parameter messaging_product is required.");
        }

        if (!product.Equals("whatsapp", StringComparison.OrdinalIgnoreCase))
        {
            return Invalid($"Param messaging_product must be one of {{WHATSAPP}} - got \"{product}\".");
        }

        var recipientType = request.Str("recipient_type") ?? "individual";
        if (recipientType is not ("individual" or "group"))
        {
            return Invalid($"Param recipient_type must be one of {{INDIVIDUAL, GROUP}} - got \"{recipientType}\".");
        }

        var to = request.Str("to");
        if (string.IsNullOrWhiteSpace(to))
        {
            return Missing("The parameter to is required.");
        }

        var waId = Fault.Digits(to);
        if (recipientType == "individual" && waId.Length == 0)
        {
            return NotValid($"Param to is not a valid phone number: \"{to}\".");
        }

        var type = request.Str("type") ?? "text";
        string? text = null, caption = null, link = null, mediaId = null, filename = null;
        JsonNode? template = null;
        if (type == "text")
        {
            text = GraphRequest.Str(p["text"]?["body"]);
            if (p["text"] is not JsonObject || text is null)
            {
                return Missing("The parameter text['body'] is required.");
            }

            if (text.Length == 0)
            {
                return NotValid("Param text['body'] must not be empty.");
            }

            if (Length(text) > MaxTextLength)
            {
                return Invalid($"Param text['body'] must be at most {MaxTextLength} characters long.");
            }
        }
        else if (MediaTypes.Contains(type))
        {
            if (p[type] is not JsonObject media)
            {
                return Missing($"The parameter {type} is required.");
            }

            link = GraphRequest.Str(media["link"]);
            mediaId = GraphRequest.Str(media["id"]);
            caption = GraphRequest.Str(media["caption"]);
            filename = GraphRequest.Str(media["filename"]);
            if (string.IsNullOrEmpty(link) && string.IsNullOrEmpty(mediaId))
            {
                return Missing($"Param {type} must contain either 'id' or 'link'.");
            }

            if (link is not null && (!Uri.TryCreate(link, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            {
                return NotValid($"Param {type}['link'] is not a valid URI.");
            }

            if (caption is not null)
            {
                if (type is "audio" or "sticker")
                {
                    return NotValid($"Param {type}['caption'] is not supported for {type} messages.");
                }

                if (Length(caption) > MaxCaptionLength)
                {
                    return Invalid($"Param {type}['caption'] must be at most {MaxCaptionLength} characters long.");
                }
            }

            if (link is not null && UrlHint.ErrorCode(link) == 131053)
            {
                return GraphResponse.Fail(ErrorCatalog.Create(131053, null, Product.WhatsApp));
            }
        }
        else if (type == "template")
        {
            if (p["template"] is not JsonObject tpl)
            {
                return Missing("The parameter template is required.");
            }

            if (string.IsNullOrEmpty(GraphRequest.Str(tpl["name"])))
            {
                return Missing("The parameter template['name'] is required.");
            }

            if (string.IsNullOrEmpty(GraphRequest.Str(tpl["language"]?["code"])))
            {
                return Missing("The parameter template['language']['code'] is required.");
            }

            template = tpl;
        }
        else if (OtherTypes.Contains(type))
        {
            if (p[type] is not JsonObject)
            {
                return Missing($"The parameter {type} is required.");
            }
        }
        else
        {
            return Invalid($"Param type must be one of {{AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}} - got \"{type}\".");
        }

        var wamid = state.NextWamid(waId);
        var effect = new Effect
        {
            Seq = state.NextEffectSeq(),
            Kind = EffectKinds.WhatsAppMessage,
            Time = now,
            Account = phoneNumberId,
            RequestSeq = requestSeq,
            Wamid = wamid,
            PhoneNumberId = phoneNumberId,
            To = to,
            WaId = waId,
            Type = type,
            Text = text,
            Caption = caption,
            Link = link,
            MediaId = mediaId,
            Filename = filename,
            Template = template,
            BizOpaqueCallbackData = request.Str("biz_opaque_callback_data"),
        };
        state.AddEffect(effect);
        // Accepted, so Meta will report its statuses (even when the answer to this request is then lost).
        state.Webhooks.MessageAccepted(effect, now);

        var message = new JsonObject { ["id"] = wamid };
        if (type == "template")
        {
            message["message_status"] = "accepted";
        }

        return GraphResponse.Ok(new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["contacts"] = new JsonArray(new JsonObject { ["input"] = to, ["wa_id"] = waId.Length > 0 ? waId : to }),
            ["messages"] = new JsonArray(message),
        });
    }

    /// <summary>Length in Unicode code points (an emoji counts once).</summary>
    private static int Length(string value)
    {
        var n = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            n++;
        }

        return n;
    }

    private static GraphResponse Invalid(string details) =>
        GraphResponse.Fail(ErrorCatalog.Create(100, null, Product.WhatsApp, "(#100) Invalid parameter", details: details));

    private static GraphResponse Missing(string details) =>
        GraphResponse.Fail(ErrorCatalog.Create(131008, null, Product.WhatsApp, details: details));

    private static GraphResponse NotValid(string details) =>
        GraphResponse.Fail(ErrorCatalog.Create(131009, null, Product.WhatsApp, details: details));
}

/// <summary>Test hints in media URLs: <c>emu_error=&lt;code or subcode&gt;</c> makes the emulator fail that media.</summary>
public static class UrlHint
{
    public static int? ErrorCode(string? url)
    {
        if (url is null)
        {
            return null;
        }

        var at = url.IndexOf("emu_error=", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var start = at + "emu_error=".Length;
        var end = start;
        while (end < url.Length && (char.IsAsciiDigit(url[end]) || (end == start && url[end] == '-')))
        {
            end++;
        }

        return int.TryParse(url.AsSpan(start, end - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var code) ? code : null;
    }
}
