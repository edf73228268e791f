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
            CheckRecipients(settings.Recipients, $"{field}.recipients", violations);
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

    /// <summary>
    /// WhatsApp recipients, a channel's or a post's own: at most <see cref="MaxRecipients"/>, each a phone number in
    /// E.164 form, named as <paramref name="field"/>[i].
    /// </summary>
    public static void CheckRecipients(IReadOnlyList<string> recipients, string field, FieldViolations violations)
    {
        if (recipients.Count > MaxRecipients)
        {
            violations.Add(field, $"at most {MaxRecipients} recipients");
        }
        for (var i = 0; i < recipients.Count && i < MaxRecipients; i++)
        {
            if (!PhoneNumber().IsMatch(recipients[i]))
            {
                violations.Add($"{field}[{i}]", "must be a phone number in E.164 form, e.g. +16505551234");
            }
        }
    }

    /// <summary>A post's own recipients are for WhatsApp channels only (an Instagram post goes to the account).</summary>
    public static void CheckPostRecipients(IReadOnlyList<string> recipients, Platform platform, string field, FieldViolations violations)
    {
        if (recipients.Count > 0 && platform != Platform.Whatsapp)
        {
            violations.Add(field, "only a WhatsApp post has recipients; an Instagram post goes to its channel's account");
        }
    }

    [GeneratedRegex(@"^\+?[1-9]\d{6,14}$")]
    private static partial Regex PhoneNumber();
}
