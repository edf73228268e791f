using System.Text.RegularExpressions;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

public static partial class ChannelSettingsRules
{
    public const int MaxRecipients = 50;

    public static void Check(Platform platform, ChannelSettings? settings, string field, FieldViolations violations)
    {
        settings ??= new ChannelSettings();
        if (platform == Platform.Whatsapp)
        {
            if (settings.Recipients.Count == 0)
            {
                violations.Add($"{field}.recipients", "a WhatsApp channel needs at least one recipient");
            }
            if (settings.Recipients.Count > MaxRecipients)
            {
                violations.Add($"{field}.recipients", $"at most {MaxRecipients} recipients");
            }
            for (var i = 0; i < settings.Recipients.Count && i < MaxRecipients; i++)
            {
                if (!PhoneNumber().IsMatch(settings.Recipients[i]))
                {
                    violations.Add($"{field}.recipients[{i}]", "must be a phone number in E.164 form, e.g. +16505551234");
                }
            }
        }
        if (!System.Enum.IsDefined(settings.AmbiguousSendPolicy))
        {
            violations.Add($"{field}.ambiguous_send_policy", "is not a known policy");
        }
        if (!System.Enum.IsDefined(settings.InstagramMode))
        {
            violations.Add($"{field}.instagram_mode", "is not a known mode");
        }
        if (platform == Platform.Instagram && settings.InstagramMode == InstagramMode.DirectMessage
            && string.IsNullOrWhiteSpace(settings.InstagramRecipientId))
        {
            violations.Add($"{field}.instagram_recipient_id", "is required in direct-message mode");
        }
        if (settings.TemplateName.Length > 512)
        {
            violations.Add($"{field}.template_name", "must be at most 512 characters");
        }
        if (settings.TemplateLanguage.Length > 16)
        {
            violations.Add($"{field}.template_language", "must be at most 16 characters");
        }
    }

    [GeneratedRegex(@"^\+?[1-9]\d{6,14}$")]
    private static partial Regex PhoneNumber();
}
