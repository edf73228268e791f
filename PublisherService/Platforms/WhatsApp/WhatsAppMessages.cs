using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// The Cloud API messages for one post and one recipient: text as a text message; media by link (image, video,
/// document, audio, sticker) with the text as the first item's caption and the rest following in order; or an approved template: the post's own
/// (content.whatsapp_template), else the channel's (settings.template_name).
/// </summary>
internal static class WhatsAppMessages
{
    internal static List<object> Build(Content content, ChannelSettings settings, string recipient)
    {
        var template = content.WhatsappTemplate
            ?? (string.IsNullOrEmpty(settings.TemplateName) ? null : new WhatsAppTemplate { Name = settings.TemplateName, Language = settings.TemplateLanguage });
        if (template is not null)
        {
            return
            [
                new
                {
                    messaging_product = "whatsapp",
                    recipient_type = "individual",
                    to = recipient,
                    type = "template",
                    template = new
                    {
                        name = template.Name,
                        language = new { code = string.IsNullOrEmpty(template.Language) ? "en_US" : template.Language },
                        components = template.Components.Count > 0 ? template.Components.Select(Component).ToList() : ComponentsOf(content),
                    },
                },
            ];
        }

        if (content.Media.Count == 0)
        {
            return
            [
                new
                {
                    messaging_product = "whatsapp",
                    recipient_type = "individual",
                    to = recipient,
                    type = "text",
                    text = new { preview_url = false, body = content.Text },
                },
            ];
        }

        return content.Media.Select((media, index) => MediaMessage(recipient, media, index == 0 ? content.Text : null)).ToList();
    }

    private static object MediaMessage(string recipient, Media media, string? caption)
    {
        var type = media.Type switch
        {
            MediaType.Video => "video",
            MediaType.Document => "document",
            MediaType.Audio => "audio",
            MediaType.Sticker => "sticker",
            _ => "image",
        };
        var body = new Dictionary<string, object> { ["link"] = media.Url };
        // The Cloud API refuses a caption on audio and stickers (the content rules keep text off them).
        if (!string.IsNullOrEmpty(caption) && media.Type is not (MediaType.Audio or MediaType.Sticker))
        {
            body["caption"] = caption;
        }
        if (media.Type == MediaType.Document)
        {
            body["filename"] = FileName(media.Url);
        }
        return new Dictionary<string, object>
        {
            ["messaging_product"] = "whatsapp",
            ["recipient_type"] = "individual",
            ["to"] = recipient,
            ["type"] = type,
            [type] = body,
        };
    }

    /// <summary>A template without components of its own: the first media item as the header, the text as the body's one parameter.</summary>
    private static List<object> ComponentsOf(Content content)
    {
        var components = new List<object>();
        if (content.Media.FirstOrDefault() is { } headerMedia)
        {
            components.Add(new { type = "header", parameters = new[] { MediaParameter(headerMedia) } });
        }
        if (!string.IsNullOrEmpty(content.Text))
        {
            components.Add(new { type = "body", parameters = new[] { new { type = "text", text = content.Text } } });
        }
        return components;
    }

    /// <summary>A component as the post gives it; a button's index goes as the string the Cloud API's examples use.</summary>
    private static object Component(WhatsAppTemplateComponent component)
    {
        var json = new Dictionary<string, object>
        {
            ["type"] = component.Type,
            ["parameters"] = component.Parameters.Select(p => p.Media is { } media
                ? MediaParameter(media)
                : p.Payload.Length > 0 ? new { type = "payload", payload = p.Payload } : (object)new { type = "text", text = p.Text }).ToList(),
        };
        if (component.Type == "button")
        {
            json["sub_type"] = component.SubType;
            json["index"] = component.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        return json;
    }

    private static object MediaParameter(Media media) => media.Type switch
    {
        MediaType.Video => new { type = "video", video = new { link = media.Url } },
        MediaType.Document => new { type = "document", document = new { link = media.Url } },
        _ => (object)new { type = "image", image = new { link = media.Url } },
    };

    private static string FileName(string url)
    {
        var name = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? Path.GetFileName(uri.AbsolutePath) : "";
        return string.IsNullOrEmpty(name) ? "document" : name;
    }
}
