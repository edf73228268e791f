using System.Text;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Webhooks;

/// <summary>
/// Delivers due status webhooks one at a time, in the order they are due (so "out of order" is exactly the order a
/// rule asked for), and puts back those the callback did not answer with 2xx, as Meta retries them.
/// </summary>
public sealed partial class WebhookSender(EmulatorState state, IHttpClientFactory httpClients, ILogger<WebhookSender> log) : BackgroundService
{
    public const string HttpClientName = "webhooks";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeliverAsync(state.Webhooks.TakeDue(), stoppingToken);
                await Task.Delay(PollInterval, state.Clock, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Delivers <paramref name="webhooks"/> in order (also used by <c>POST /__emu/webhooks/flush</c>).</summary>
    public async Task<int> DeliverAsync(IReadOnlyList<PendingWebhook> webhooks, CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var webhook in webhooks)
        {
            delivered += await DeliverAsync(webhook, cancellationToken) ? 1 : 0;
        }

        return delivered;
    }

    private async Task<bool> DeliverAsync(PendingWebhook webhook, CancellationToken cancellationToken)
    {
        var hooks = state.Webhooks;
        if (hooks.CallbackUrl is not { } url)
        {
            return false;
        }

        webhook.Attempts++;
        int status = 0;
        string? error = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent(webhook.Body, Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", webhook.Signature);
            request.Headers.UserAgent.ParseAdd("facebookexternalua");
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            error = ex.GetType().Name;
        }

        var delivery = new WebhookDelivery
        {
            Seq = webhook.Seq,
            Time = state.Clock.GetUtcNow(),
            Url = url,
            Wamid = webhook.Wamid,
            Status = webhook.Status,
            Attempt = webhook.Attempts,
            HttpStatus = status,
            Error = error,
            Body = webhook.Body,
            Signature = webhook.Signature,
        };
        hooks.Deliveries.Add(delivery);
        if (delivery.Delivered)
        {
            return true;
        }

        if (!hooks.Retry(webhook))
        {
            LogGaveUp(webhook.Wamid, webhook.Status, webhook.Attempts);
        }

        return false;
    }

    [LoggerMessage(20, LogLevel.Warning, "Status webhook {Status} of {Wamid} not accepted after {Attempts} attempts; given up")]
    private partial void LogGaveUp(string wamid, string status, int attempts);
}
