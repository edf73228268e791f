using System.Globalization;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Direct-message mode: the text, then each attachment, as messages to the channel's Instagram recipient. Each message
/// sent is remembered so a retry sends only what is missing; Instagram has no way to look a sent message up, so an
/// attempt that may have sent one is never resent blindly.
/// </summary>
internal sealed class InstagramDirectMessages(GraphApiClient graph)
{
    public static Reconciliation Reconcile(PublishJob job)
    {
        var state = DirectMessageState.Parse(job.PlatformStateJson);
        if (string.IsNullOrWhiteSpace(job.Channel.Settings.InstagramRecipientId))
        {
            return Reconciliation.Settled(new FailedResult(ErrorClass.Permanent, "The channel has no Instagram recipient for direct messages.", 0, null, null, state.ToJson()));
        }
        if (job.NeedsReconciliation)
        {
            // Instagram has no way to look a sent message up: a person decides.
            return Reconciliation.Settled(new UnconfirmedResult(
                "An earlier attempt may have sent this direct message; Instagram cannot tell. Check the conversation, then cancel or reschedule.", state.ToJson()));
        }
        return Reconciliation.Unsettled(state.ToJson());
    }

    public async Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = DirectMessageState.Parse(job.PlatformStateJson);
        var messages = Build(job.Post.Content, job.Channel.Settings.InstagramRecipientId);
        for (var step = 0; step < messages.Count; step++)
        {
            var key = step.ToString(CultureInfo.InvariantCulture);
            if (state.Sent.ContainsKey(key))
            {
                continue;
            }
            try
            {
                var response = await graph.PostAsync($"{job.Channel.AccountId}/messages", messages[step], job.Channel.AccessToken, cancellationToken);
                state.Sent[key] = response.TryGetProperty("message_id", out var id) ? id.GetString() ?? "" : "";
            }
            catch (GraphApiException ex)
            {
                return ex.ToFailedResult(state.ToJson());
            }
            catch (AmbiguousRequestException ex)
            {
                return new UnconfirmedResult($"A direct message got no answer ({ex.InnerException?.GetType().Name}); it may have been delivered.", state.ToJson());
            }
        }
        return new PublishedResult(state.Sent.Values.FirstOrDefault() ?? "", null, state.ToJson());
    }

    internal static List<object> Build(Content content, string recipient)
    {
        var messages = new List<object>();
        if (!string.IsNullOrEmpty(content.Text))
        {
            messages.Add(new { recipient = new { id = recipient }, message = new { text = content.Text } });
        }
        foreach (var media in content.Media)
        {
            var type = media.Type switch
            {
                MediaType.Video => "video",
                MediaType.Image => "image",
                _ => "file",
            };
            messages.Add(new { recipient = new { id = recipient }, message = new { attachment = new { type, payload = new { url = media.Url } } } });
        }
        return messages;
    }
}
