using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Platforms.WhatsApp;

/// <summary>
/// Sends a post to each of its recipients (the post's own, else the channel's) through the WhatsApp Cloud API
/// (<see cref="WhatsAppMessages"/>). Each message sent is saved (its wamid, fenced by the attempt) before the next one
/// goes out, so a retry after a crash midway sends only what is missing. WhatsApp has no idempotency
/// key and no way to look a message up, so a send whose answer was lost follows the channel's ambiguous-send policy:
/// mark the post unconfirmed (default) or resend once.
/// </summary>
public sealed partial class WhatsAppPublisher(GraphApiClient graph, IPlatformStateStore stateStore, ILogger<WhatsAppPublisher> log)
    : IPlatformPublisher
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
                // When the one send the earlier attempt left in doubt is the post's last, its status webhook (naming
                // that attempt and send) proves the post complete: PostsService then publishes it.
                var pending = PendingSends(job, state);
                var settledByStatus = pending.Count == 1 && job.Post.InDoubtAttempt > 0
                    ? WhatsAppCallback.Format(job.Post.PostId, job.Post.InDoubtAttempt, pending[0].Key)
                    : null;
                return Task.FromResult(Reconciliation.Settled(new UnconfirmedResult(
                    "An earlier attempt may have sent this post; WhatsApp cannot tell. Check the chat, then cancel or reschedule.", state.ToJson(),
                    settledByStatus)));
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
        var sends = PendingSends(job, state);
        for (var i = 0; i < sends.Count; i++)
        {
            var (key, recipient, message) = sends[i];
            while (true)
            {
                // Every send names itself (post, attempt, recipient and step): WhatsApp echoes it in the message's
                // status webhooks, which is how a send whose answer was lost is settled later.
                var sendRef = WhatsAppCallback.Format(job.Post.PostId, job.Attempt, key);
                try
                {
                    var response = await graph.PostAsync($"{job.Channel.AccountId}/messages", WhatsAppCallback.Attach(message, sendRef),
                        job.Channel.AccessToken, cancellationToken);
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
                        // Only the post's last send can be settled by its status alone: after an earlier one, the
                        // sends that never started would still be missing. After the channel's one resend, nothing
                        // more may go out automatically.
                        var settledByStatus = i == sends.Count - 1 && !state.Resent;
                        return new UnconfirmedResult($"Sending to {Mask(recipient)} got no answer ({ex.InnerException?.GetType().Name}); it may have been delivered.",
                            state.ToJson(), settledByStatus ? sendRef : null);
                    }
                    state.Resent = true;
                    LogResending(job.Post.PostId);
                }
            }
            // The outcome report carries the last wamid; every earlier one is saved before the next send, so a
            // crash midway leaves the next attempt knowing exactly who already has the post.
            if (i < sends.Count - 1 && !await stateStore.SaveAsync(job, state.ToJson(), cancellationToken))
            {
                LogStoppedUnsaved(job.Post.PostId, job.Attempt);
                return new FailedResult(ErrorClass.Transient,
                    "Could not record the messages already sent; stopped so that no recipient gets the post twice. Will retry the rest.",
                    0, null, null, state.ToJson());
            }
        }

        var first = state.Sent.Values.FirstOrDefault() ?? "";
        return new PublishedResult(first, null, state.ToJson());
    }

    /// <summary>Every message of the post, in order, that the platform state does not list as sent.</summary>
    private static List<(string Key, string Recipient, object Message)> PendingSends(PublishJob job, WhatsAppState state) =>
        Recipients(job)
            .SelectMany(recipient => WhatsAppMessages.Build(job.Post.Content, job.Channel.Settings, recipient)
                .Select((message, step) => (Key: $"{recipient}#{step}", Recipient: recipient, Message: message)))
            .Where(send => !state.Sent.ContainsKey(send.Key))
            .ToList();

    /// <summary>The post's own recipients when it names some, else the channel's.</summary>
    private static IReadOnlyList<string> Recipients(PublishJob job) =>
        job.Post.Recipients.Count > 0 ? job.Post.Recipients : job.Channel.Settings.Recipients;

    private static bool ResendsOnce(PublishJob job) => job.Channel.Settings.AmbiguousSendPolicy == AmbiguousSendPolicy.ResendOnce;

    private static string Mask(string recipient) => recipient.Length <= 4 ? "****" : $"***{recipient[^4..]}";

    [LoggerMessage(1, LogLevel.Warning, "Post {PostId}: resending once after an unanswered WhatsApp send (channel policy)")]
    private partial void LogResending(string postId);

    [LoggerMessage(2, LogLevel.Warning, "Post {PostId} attempt {Attempt}: the sent messages could not be recorded; stopped before the next send")]
    private partial void LogStoppedUnsaved(string postId, int attempt);
}
