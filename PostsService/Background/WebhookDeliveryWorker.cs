using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Options;
using SocialSync.MediaInspection;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Background;

/// <summary>
/// Sends the workspaces' events to their webhook endpoints (docs/webhooks.md, "Webhooks out"): each poll fans the new
/// post changes out into delivery rows (<see cref="WebhookDeliveryStore.FanOutAsync"/>), then claims the due
/// deliveries and POSTs each, signed per Standard Webhooks, and records the attempt: delivered on a 2xx, otherwise
/// retried on the schedule of <see cref="WebhookOptions.RetryDelays"/>, and the endpoint disabled by the rule of
/// <see cref="WebhookOptions.DisableAfterFailures"/>. All state is in PostgreSQL, so a restart loses nothing: an
/// attempt whose result was never recorded is made again once its claim's lease passes (at least once). Ended
/// deliveries are deleted after <see cref="WebhookOptions.DeliveryRetention"/>.
/// </summary>
public sealed partial class WebhookDeliveryWorker(
    WebhookDeliveryStore deliveries, IHttpClientFactory clients, WebhookOptions options, TimeProvider time, IMeterFactory meters,
    ILogger<WebhookDeliveryWorker> log) : BackgroundService
{
    public const string HttpClientName = "webhooks";
    private const int BatchSize = 100;
    private const int PruneBatchSize = 1000;
    private static readonly TimeSpan PruneInterval = TimeSpan.FromMinutes(1);
    private const int MaxErrorLength = 500;

    private readonly Counter<long> _attempts = meters.Create(PostsMetrics.MeterName)
        .CreateCounter<long>("socialsync.webhooks.attempts", "{attempt}", "Outbound webhook delivery attempts by result (delivered, failed)");

    /// <summary>
    /// The webhooks' HTTP client: no redirect is followed (a 3xx is a failed attempt, so an endpoint cannot send
    /// PostsService elsewhere), no cookies, a timeout, and, unless <see cref="WebhookOptions.AllowInsecureUrls"/>, no
    /// connection to an internal address, whatever the URL's name resolves to at the time.
    /// </summary>
    public static void AddHttpClient(IServiceCollection services, WebhookOptions options)
    {
        var guard = new MediaAddressGuard(Options.Create(new MediaOptions()));
        services.AddHttpClient(HttpClientName, http => http.Timeout = options.RequestTimeout)
            .ConfigurePrimaryHttpMessageHandler(() =>
            {
                var handler = new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, Credentials = null };
                if (!options.AllowInsecureUrls)
                {
                    handler.ConnectCallback = guard.ConnectAsync;
                }
                return handler;
            });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Longer than any attempt (the request's timeout, then its record): a claim is taken again only when its attempt
        // surely ended without a record, as after a crash.
        var lease = options.RequestTimeout * 2;
        var failures = 0;
        var nextPrune = DateTimeOffset.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var (queued, missed) = await deliveries.FanOutAsync(time.GetUtcNow(), stoppingToken);
                if (missed)
                {
                    LogChangesPruned();
                }
                if (queued > 0)
                {
                    LogQueued(queued);
                }
                IReadOnlyList<DueWebhook> due;
                do
                {
                    due = await deliveries.ClaimDueAsync(time.GetUtcNow(), lease, BatchSize, stoppingToken);
                    await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = stoppingToken },
                        async (delivery, cancellationToken) => await DeliverAsync(delivery, cancellationToken));
                }
                while (due.Count == BatchSize);
                if (time.GetUtcNow() is var now && now >= nextPrune)
                {
                    await PruneAsync(now, stoppingToken);
                    nextPrune = now + (options.DeliveryRetention < PruneInterval ? options.DeliveryRetention : PruneInterval);
                }
                failures = 0;
                await Task.Delay(options.PollInterval, time, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                LogPollFailed(ex);
                await Task.Delay(options.PollInterval * Math.Min(failures, 30), time, stoppingToken);
            }
        }
    }

    /// <summary>Deletes the deliveries that ended more than the retention ago, a batch at a time so no statement runs long.</summary>
    private async Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        int pruned;
        do
        {
            pruned = await deliveries.PruneEndedAsync(now - options.DeliveryRetention, PruneBatchSize, cancellationToken);
            if (pruned > 0)
            {
                LogPruned(pruned, options.DeliveryRetention);
            }
        }
        while (pruned == PruneBatchSize);
    }

    private async Task DeliverAsync(DueWebhook delivery, CancellationToken cancellationToken)
    {
        var result = await SendAsync(delivery, cancellationToken);
        var now = time.GetUtcNow();
        DateTimeOffset? retryAt = null;
        if (!result.Succeeded)
        {
            retryAt = WebhookRules.NextDelay(options, delivery.AttemptInSchedule, Random.Shared.NextDouble()) is { } delay ? now + delay : null;
        }
        var reason = $"Disabled after {options.DisableAfterFailures} or more failed delivery attempts in a row over at least "
            + $"{DurationText.Describe(options.DisableAfterFailingFor)}; the last: {result.Error}";
        var disabled = await deliveries.RecordAttemptAsync(delivery, result, now, retryAt, options.DisableAfterFailures, options.DisableAfterFailingFor,
            reason, cancellationToken);
        _attempts.Add(1, new KeyValuePair<string, object?>("result", result.Succeeded ? "delivered" : "failed"));
        if (result.Succeeded)
        {
            LogDelivered(delivery.EventId, delivery.EndpointId, delivery.Attempt);
        }
        else if (retryAt is { } at)
        {
            LogRetrying(delivery.EventId, delivery.EndpointId, delivery.Attempt, result.Error, at);
        }
        else
        {
            LogGivenUp(delivery.EventId, delivery.EndpointId, delivery.Attempt, result.Error);
        }
        if (disabled)
        {
            LogEndpointDisabled(delivery.EndpointId, delivery.WorkspaceId, result.Error);
        }
    }

    private async Task<WebhookAttemptResult> SendAsync(DueWebhook delivery, CancellationToken cancellationToken)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url)
        {
            Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", delivery.EventId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookRules.Sign(delivery.EventId, timestamp, delivery.Payload, delivery.Secrets));
        var started = time.GetTimestamp();
        try
        {
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            var error = response.IsSuccessStatusCode ? null
                : status is >= 300 and < 400 ? $"HTTP {status}: a redirect, which webhooks do not follow"
                : $"HTTP {status}";
            return new WebhookAttemptResult(status, error, time.GetElapsedTime(started));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new WebhookAttemptResult(null, $"No answer within {DurationText.Describe(options.RequestTimeout)}", time.GetElapsedTime(started));
        }
        catch (HttpRequestException ex)
        {
            var message = ex.InnerException is MediaFetchException refused ? "The URL's host " + refused.Message : ex.Message;
            return new WebhookAttemptResult(null, message.Length > MaxErrorLength ? message[..MaxErrorLength] : message, time.GetElapsedTime(started));
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Sending webhooks failed; trying again")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(2, LogLevel.Error, "Post changes were pruned before they were sent as webhooks (PostsService was away longer than Watch:Retention)")]
    private partial void LogChangesPruned();

    [LoggerMessage(3, LogLevel.Debug, "Queued {Count} webhook deliveries")]
    private partial void LogQueued(int count);

    [LoggerMessage(4, LogLevel.Debug, "Webhook {EventId} delivered to endpoint {EndpointId} (attempt {Attempt})")]
    private partial void LogDelivered(string eventId, Guid endpointId, int attempt);

    [LoggerMessage(5, LogLevel.Information, "Webhook {EventId} to endpoint {EndpointId} failed (attempt {Attempt}: {Error}); retrying at {RetryAt}")]
    private partial void LogRetrying(string eventId, Guid endpointId, int attempt, string? error, DateTimeOffset retryAt);

    [LoggerMessage(6, LogLevel.Warning, "Webhook {EventId} to endpoint {EndpointId} failed (attempt {Attempt}: {Error}); no retry left, given up")]
    private partial void LogGivenUp(string eventId, Guid endpointId, int attempt, string? error);

    [LoggerMessage(7, LogLevel.Warning, "Webhook endpoint {EndpointId} of workspace {WorkspaceId} disabled after persistent failure (the last: {Error})")]
    private partial void LogEndpointDisabled(Guid endpointId, Guid workspaceId, string? error);

    [LoggerMessage(8, LogLevel.Information, "Deleted {Count} webhook deliveries that ended more than {Retention} ago, with their attempts")]
    private partial void LogPruned(int count, TimeSpan retention);
}
