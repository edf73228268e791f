using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Webhooks;

/// <summary>
/// Meta's webhooks in (<c>/webhooks/meta</c>): the subscription handshake, and status deliveries, which are believed
/// only with a valid signature, dropped when already forwarded, and forwarded to PostsService over gRPC. Nothing is
/// recorded before the signature is checked; a delivery PostsService could not take is answered 503 so Meta retries it.
/// </summary>
public sealed partial class MetaWebhookReceiver(
    DeliveriesInternalService.DeliveriesInternalServiceClient deliveries,
    IOptions<MetaOptions> options,
    TimeProvider time,
    ILogger<MetaWebhookReceiver> log)
{
    public const string Path = "/webhooks/meta";

    /// <summary>Meta's status webhooks are small; anything larger is not one.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private readonly byte[] _appSecret = Encoding.UTF8.GetBytes(options.Value.AppSecret);
    private readonly byte[] _verifyToken = Encoding.UTF8.GetBytes(options.Value.WebhookVerifyToken);
    private readonly RecentDeliveries _recent = new(options.Value.WebhookDeduplicationCapacity);

    /// <summary>The handshake: <c>hub.mode=subscribe</c> with the configured <c>hub.verify_token</c> echoes <c>hub.challenge</c>.</summary>
    public IResult Verify(HttpRequest request)
    {
        var mode = request.Query["hub.mode"].ToString();
        var token = Encoding.UTF8.GetBytes(request.Query["hub.verify_token"].ToString());
        if (mode != "subscribe" || _verifyToken.Length == 0 || !CryptographicOperations.FixedTimeEquals(token, _verifyToken))
        {
            LogVerificationRefused();
            return Results.StatusCode(StatusCodes.Status403Forbidden);
        }
        return Results.Text(request.Query["hub.challenge"].ToString(), "text/plain");
    }

    public async Task<IResult> ReceiveAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, cancellationToken);
        if (body is null)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }
        if (!MetaSignature.IsValid(request.Headers[MetaSignature.Header].ToString(), body, _appSecret))
        {
            LogBadSignature(body.Length);
            return Results.StatusCode(StatusCodes.Status401Unauthorized);
        }

        List<DeliveryStatus> statuses;
        int ignored;
        try
        {
            using var json = JsonDocument.Parse(body);
            (statuses, ignored) = StatusWebhookReader.Read(json.RootElement);
        }
        catch (JsonException)
        {
            return Results.BadRequest();
        }

        var fresh = statuses.Where(s => !_recent.Seen(Key(s))).ToList();
        if (fresh.Count > 0)
        {
            var forward = new RecordDeliveryStatusesRequest();
            forward.Statuses.AddRange(fresh);
            try
            {
                var answer = await deliveries.RecordDeliveryStatusesAsync(forward,
                    deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
                _recent.Remember(fresh.Select(Key));
                foreach (var postId in answer.ConfirmedPostIds)
                {
                    LogConfirmed(postId);
                }
            }
            catch (RpcException ex)
            {
                LogForwardFailed(ex, fresh.Count);
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }
        }
        LogReceived(fresh.Count, statuses.Count - fresh.Count, ignored);
        return Results.Ok();
    }

    private static string Key(DeliveryStatus status) => $"{status.Wamid}|{status.State}|{status.RecipientId}";

    /// <summary>The raw body (the signature covers its exact bytes), or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    [LoggerMessage(101, LogLevel.Warning, "Meta webhook verification refused (wrong mode or verify token)")]
    private partial void LogVerificationRefused();

    [LoggerMessage(102, LogLevel.Warning, "Meta webhook of {Bytes} bytes refused: missing or wrong X-Hub-Signature-256")]
    private partial void LogBadSignature(int bytes);

    [LoggerMessage(103, LogLevel.Debug, "Meta webhook: {Forwarded} statuses forwarded, {Repeated} repeated, {Ignored} not ours")]
    private partial void LogReceived(int forwarded, int repeated, int ignored);

    [LoggerMessage(104, LogLevel.Warning, "Meta webhook: {Count} statuses could not be forwarded to PostsService; Meta will retry")]
    private partial void LogForwardFailed(Exception ex, int count);

    [LoggerMessage(105, LogLevel.Information, "Post {PostId}: a delivery status confirmed the send whose answer was lost; published")]
    private partial void LogConfirmed(string postId);
}
