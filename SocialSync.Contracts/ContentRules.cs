using System.Text.RegularExpressions;
using SocialSync.Posts.V1;

namespace SocialSync.Contracts;

/// <summary>
/// What each platform accepts (docs/publishing.md): PostsService checks it before it accepts a post, so a post
/// that reaches the publisher is one its platform takes.
/// </summary>
public static partial class ContentRules
{
    public const int WhatsAppTextMax = 4096;
    public const int WhatsAppCaptionMax = 1024;
    public const int InstagramCaptionMax = 2200;
    public const int InstagramHashtagsMax = 30;
    public const int InstagramMentionsMax = 20;
    public const int InstagramDirectMessageMax = 1000;
    public const int MaxMediaItems = 10;
    public const int MaxUrlLength = 2048;
    public const int MaxTemplateComponents = 10;

    /// <summary>Checks content that does not depend on the channel (shape, URLs, types).</summary>
    public static void CheckShape(Content? content, string field, IFieldViolations violations)
    {
        if (content is null)
        {
            violations.Add(field, "is required");
            return;
        }
        if (string.IsNullOrWhiteSpace(content.Text) && content.Media.Count == 0 && content.WhatsappTemplate is null)
        {
            violations.Add(field, "needs text or at least one media item");
        }
        if (content.WhatsappTemplate is { } template)
        {
            CheckWhatsAppTemplate(template, $"{field}.whatsapp_template", violations);
        }
        if (content.Text.Length > WhatsAppTextMax * 4)
        {
            violations.Add($"{field}.text", $"is longer than {WhatsAppTextMax * 4} characters");
        }
        if (content.Media.Count > MaxMediaItems)
        {
            violations.Add($"{field}.media", $"has more than {MaxMediaItems} items");
        }
        for (var i = 0; i < content.Media.Count && i < MaxMediaItems; i++)
        {
            var media = content.Media[i];
            if (media.Type == MediaType.Unspecified || !System.Enum.IsDefined(media.Type))
            {
                violations.Add($"{field}.media[{i}].type", "must be image, video, document, audio or sticker");
            }
            if (!IsHttpUrl(media.Url))
            {
                violations.Add($"{field}.media[{i}].url", "must be an absolute http(s) URL of at most 2048 characters");
            }
        }
    }

    /// <summary>
    /// Checks a post's own Meta message template: a name and language as WhatsApp Manager spells them, and components
    /// the Cloud API takes (header, body, or a button with its sub_type and index), each parameter holding one value.
    /// </summary>
    private static void CheckWhatsAppTemplate(WhatsAppTemplate template, string field, IFieldViolations violations)
    {
        if (!TemplateNamePattern().IsMatch(template.Name))
        {
            violations.Add($"{field}.name", "must be the approved template's name: 1-512 lower-case letters, digits and _");
        }
        if (template.Language.Length > 0 && !TemplateLanguagePattern().IsMatch(template.Language))
        {
            violations.Add($"{field}.language", "must be a language code such as en, en_US or pt_BR");
        }
        if (template.Components.Count > MaxTemplateComponents)
        {
            violations.Add($"{field}.components", $"has more than {MaxTemplateComponents} components");
        }
        for (var c = 0; c < template.Components.Count && c < MaxTemplateComponents; c++)
        {
            var component = template.Components[c];
            var at = $"{field}.components[{c}]";
            if (component.Type is not ("header" or "body" or "button"))
            {
                violations.Add($"{at}.type", "must be header, body or button");
            }
            if (component.Type == "button" && component.SubType is not ("quick_reply" or "url"))
            {
                violations.Add($"{at}.sub_type", "must be quick_reply or url for a button");
            }
            if (component.Type == "button" && component.Index is < 0 or > 9)
            {
                violations.Add($"{at}.index", "must be between 0 and 9");
            }
            for (var p = 0; p < component.Parameters.Count; p++)
            {
                var parameter = component.Parameters[p];
                var values = (parameter.Text.Length > 0 ? 1 : 0) + (parameter.Payload.Length > 0 ? 1 : 0) + (parameter.Media is null ? 0 : 1);
                if (values != 1)
                {
                    violations.Add($"{at}.parameters[{p}]", "must hold exactly one of text, payload or media");
                }
                else if (parameter.Media is { } media && (component.Type != "header" || !IsHttpUrl(media.Url)
                    || media.Type is not (MediaType.Image or MediaType.Video or MediaType.Document)))
                {
                    violations.Add($"{at}.parameters[{p}].media", "goes in a header only, as an image, video or document with an absolute http(s) URL");
                }
            }
        }
    }

    /// <summary>Checks content against the channel's platform and mode.</summary>
    public static void CheckForChannel(Content content, Platform platform, ChannelSettings settings, string field, IFieldViolations violations)
    {
        if (platform != Platform.Whatsapp && content.WhatsappTemplate is not null)
        {
            violations.Add($"{field}.whatsapp_template", "is for WhatsApp channels only");
        }
        if (platform == Platform.Whatsapp)
        {
            if (content.Text.Length > 0 && content.WhatsappTemplate is null && content.Media.FirstOrDefault() is { Type: MediaType.Audio or MediaType.Sticker })
            {
                // The text goes as the first item's caption, and WhatsApp takes no caption on audio or a sticker.
                violations.Add($"{field}.text", "must be empty when the first media item is audio or a sticker: WhatsApp sends them without a caption");
            }
            var limit = content.Media.Count > 0 ? WhatsAppCaptionMax : WhatsAppTextMax;
            if (content.Text.Length > limit)
            {
                violations.Add($"{field}.text", content.Media.Count > 0
                    ? $"is a WhatsApp caption and must be at most {WhatsAppCaptionMax} characters"
                    : $"must be at most {WhatsAppTextMax} characters on WhatsApp");
            }
            return;
        }

        var mode = settings.InstagramMode == InstagramMode.Unspecified ? InstagramMode.Feed : settings.InstagramMode;
        if (mode == InstagramMode.DirectMessage)
        {
            if (content.Text.Length >= InstagramDirectMessageMax)
            {
                violations.Add($"{field}.text", $"must be under {InstagramDirectMessageMax} characters in an Instagram direct message");
            }
            return;
        }

        if (content.Text.Length > InstagramCaptionMax)
        {
            violations.Add($"{field}.text", $"must be at most {InstagramCaptionMax} characters on Instagram");
        }
        if (HashtagPattern().Count(content.Text) > InstagramHashtagsMax)
        {
            violations.Add($"{field}.text", $"has more than {InstagramHashtagsMax} hashtags");
        }
        if (MentionPattern().Count(content.Text) > InstagramMentionsMax)
        {
            violations.Add($"{field}.text", $"has more than {InstagramMentionsMax} @mentions");
        }
        if (content.Media.Count == 0)
        {
            violations.Add($"{field}.media", "Instagram posts need at least one image or video");
        }
        for (var i = 0; i < content.Media.Count; i++)
        {
            if (content.Media[i].Type is not (MediaType.Image or MediaType.Video))
            {
                violations.Add($"{field}.media[{i}].type", "Instagram accepts images and videos only");
            }
        }
        if (mode is InstagramMode.Reel && (content.Media.Count != 1 || content.Media[0].Type != MediaType.Video))
        {
            violations.Add($"{field}.media", "a reel is exactly one video");
        }
        if (mode is InstagramMode.Story && content.Media.Count != 1)
        {
            violations.Add($"{field}.media", "a story is exactly one image or video");
        }
    }

    public static bool IsHttpUrl(string url) =>
        url.Length is > 0 and <= MaxUrlLength
        && Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !string.IsNullOrEmpty(uri.Host);

    [GeneratedRegex("^[a-z0-9_]{1,512}$")]
    private static partial Regex TemplateNamePattern();

    [GeneratedRegex("^[a-z]{2,3}(_[A-Z]{2})?$")]
    private static partial Regex TemplateLanguagePattern();

    [GeneratedRegex(@"(?<!\w)#\w+")]
    private static partial Regex HashtagPattern();

    [GeneratedRegex(@"(?<!\w)@[\w.]+")]
    private static partial Regex MentionPattern();
}
