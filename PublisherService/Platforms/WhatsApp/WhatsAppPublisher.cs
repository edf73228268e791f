using System.Text.Json;
using System.Text.Json.Serialization;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// Sends a post to each of the channel's recipients through the WhatsApp Cloud API: text as a text message; media
/// by link with the text as the first item's caption and the rest following in order; or the channel's approved
/// template. Each message sent is remembered (its wamid) so a retry sends only what is missing.
/// WhatsApp has no idempotency key, so a send whose answer was lost follows the channel's ambiguous-send policy:
/// mark the post unconfirmed (default) or resend once.
/// </summary>
public sealed partial class WhatsAppPublisher(GraphApiClient graph, ILogger<WhatsAppPublisher> log) : IPlatformPublisher
{
    public Platform Platform => Platform.Whatsapp;

    public async Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = WhatsAppState.Parse(job.PlatformStateJson);
        var resendOnce = job.Channel.Settings.AmbiguousSendPolicy == AmbiguousSendPolicy.ResendOnce;
        if (job.NeedsReconciliation)
        {
            if (!resendOnce || state.Resent)
            {
                return new UnconfirmedResult("An earlier attempt may have sent this post; WhatsApp cannot tell. Check the chat, then cancel or reschedule.", state.ToJson());
            }
            state.Resent = true;
            LogResending(job.Post.Id);
        }

        foreach (var recipient in job.Channel.Settings.Recipients)
        {
            var messages = BuildMessages(job.Post.Content, job.Channel.Settings, recipient);
            for (var step = 0; step < messages.Count; step++)
            {
                var key = $"{recipient}#{step}";
                if (state.Sent.ContainsKey(key))
                {
                    continue;
                }
                while (true)
                {
                    try
                    {
                        var response = await graph.PostAsync($"{job.Channel.AccountId}/messages", messages[step], job.Channel.AccessToken, cancellationToken);
                        state.Sent[key] = response.GetProperty("messages")[0].GetProperty("id").GetString() ?? "";
                        break;
                    }
                    catch (GraphApiException ex)
                    {
                        return FailedResult.From(ex, state.ToJson());
                    }
                    catch (AmbiguousRequestException ex)
                    {
                        if (!resendOnce || state.Resent)
                        {
                            return new UnconfirmedResult($"Sending to {Mask(recipient)} got no answer ({ex.InnerException?.GetType().Name}); it may have been delivered.", state.ToJson());
                        }
                        state.Resent = true;
                        LogResending(job.Post.Id);
                    }
                }
            }
        }

        var first = state.Sent.Values.FirstOrDefault() ?? "";
        return new PublishedResult(first, null, state.ToJson());
    }

    internal static List<object> BuildMessages(Content content, ChannelSettings settings, string recipient)
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

    private static string Mask(string recipient) => recipient.Length <= 4 ? "****" : $"***{recipient[^4..]}";

    [LoggerMessage(1, LogLevel.Warning, "Post {PostId}: resending once after an unanswered WhatsApp send (channel policy)")]
    private partial void LogResending(string postId);
}

/// <summary>What earlier attempts sent: "recipient#step" → wamid, and whether the one resend was used.</summary>
internal sealed class WhatsAppState
{
    [JsonPropertyName("sent")]
    public Dictionary<string, string> Sent { get; set; } = [];

    [JsonPropertyName("resent")]
    public bool Resent { get; set; }

    public static WhatsAppState Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new WhatsAppState();
        }
        try
        {
            return JsonSerializer.Deserialize<WhatsAppState>(json) ?? new WhatsAppState();
        }
        catch (JsonException)
        {
            return new WhatsAppState();
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this);
}
