using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// The Cloud API messages for one post and one recipient: text as a text message; media by link with the text as the
/// first item's caption and the rest following in order; or the channel's approved template.
/// </summary>
internal static class WhatsAppMessages
{
    internal static List<object> Build(Content content, ChannelSettings settings, string recipient)
    {
        if (!string.IsNullOrEmpty(settings.TemplateName))
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
                        name = settings.TemplateName,
                        language = new { code = string.IsNullOrEmpty(settings.TemplateLanguage) ? "en_US" : settings.TemplateLanguage },
                        components,
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
            _ => "image",
        };
        var body = new Dictionary<string, object> { ["link"] = media.Url };
        if (!string.IsNullOrEmpty(caption))
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
