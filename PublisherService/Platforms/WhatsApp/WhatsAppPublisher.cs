using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// Sends a post to each of the channel's recipients through the WhatsApp Cloud API (<see cref="WhatsAppMessages"/>).
/// Each message sent is remembered (its wamid) so a retry sends only what is missing. WhatsApp has no idempotency
/// key and no way to look a message up, so a send whose answer was lost follows the channel's ambiguous-send policy:
/// mark the post unconfirmed (default) or resend once.
/// </summary>
public sealed partial class WhatsAppPublisher(GraphApiClient graph, ILogger<WhatsAppPublisher> log) : IPlatformPublisher
{
    public Platform Platform => Platform.Whatsapp;

    public string Name => "WhatsApp";

    public Task<Reconciliation> ReconcileAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = WhatsAppState.Parse(job.PlatformStateJson);
        if (job.NeedsReconciliation)
        {
            if (!ResendsOnce(job) || state.Resent)
            {
                return Task.FromResult(Reconciliation.Settled(new UnconfirmedResult(
                    "An earlier attempt may have sent this post; WhatsApp cannot tell. Check the chat, then cancel or reschedule.", state.ToJson())));
            }
            state.Resent = true;
            LogResending(job.Post.PostId);
        }
        return Task.FromResult(Reconciliation.Unsettled(state.ToJson()));
    }

    public async Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = WhatsAppState.Parse(job.PlatformStateJson);
        var resendOnce = ResendsOnce(job);
        foreach (var recipient in job.Channel.Settings.Recipients)
        {
            var messages = WhatsAppMessages.Build(job.Post.Content, job.Channel.Settings, recipient);
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
                        return ex.ToFailedResult(state.ToJson());
                    }
                    catch (AmbiguousRequestException ex)
                    {
                        if (!resendOnce || state.Resent)
                        {
                            return new UnconfirmedResult($"Sending to {Mask(recipient)} got no answer ({ex.InnerException?.GetType().Name}); it may have been delivered.", state.ToJson());
                        }
                        state.Resent = true;
                        LogResending(job.Post.PostId);
                    }
                }
            }
        }

        var first = state.Sent.Values.FirstOrDefault() ?? "";
        return new PublishedResult(first, null, state.ToJson());
    }

    private static bool ResendsOnce(PublishJob job) => job.Channel.Settings.AmbiguousSendPolicy == AmbiguousSendPolicy.ResendOnce;

    private static string Mask(string recipient) => recipient.Length <= 4 ? "****" : $"***{recipient[^4..]}";

    [LoggerMessage(1, LogLevel.Warning, "Post {PostId}: resending once after an unanswered WhatsApp send (channel policy)")]
    private partial void LogResending(string postId);
}
