using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>One webhook request as the receiver got it.</summary>
public sealed record ReceivedWebhook(string Id, string Timestamp, string Signature, string Body, int AnsweredWith, DateTimeOffset At);

/// <summary>
/// A webhook receiver on a loopback port, as a user's integration runs one: it answers each request with the status
/// <see cref="Answer"/> gives (500 while it "fails", 200 once it works) and keeps every request it got.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _serving;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();

    private WebhookReceiver(int port)
    {
        Url = $"http://127.0.0.1:{port}/hooks";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>The status code to answer a request with, given its webhook-id; 200 unless set.</summary>
    public Func<string, int> Answer { get; set; } = _ => 200;

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToArray();

    public static WebhookReceiver Start() => new(Ports.Free());

    /// <summary>Waits until the requests received satisfy <paramref name="done"/>.</summary>
    public Task<IReadOnlyList<ReceivedWebhook>> UntilAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> done, string what, TimeSpan? timeout = null) =>
        Polling.UntilAsync(() => Task.FromResult(Received), done, timeout ?? TimeSpan.FromSeconds(30), what);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var id = context.Request.Headers["webhook-id"] ?? "";
            var status = Answer(id);
            _received.Enqueue(new ReceivedWebhook(id, context.Request.Headers["webhook-timestamp"] ?? "",
                context.Request.Headers["webhook-signature"] ?? "", body, status, DateTimeOffset.UtcNow));
            context.Response.StatusCode = status;
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _serving;
    }
}

/// <summary>
/// The receiver's side of Standard Webhooks, written from the scheme and not from PostsService's signer: the signed
/// content is "{webhook-id}.{webhook-timestamp}.{body}", each "v1,&lt;base64&gt;" of the space-separated
/// webhook-signature is an HMAC-SHA256 under the base64 key after "whsec_", compared in constant time.
/// </summary>
public static class StandardWebhooksVerifier
{
    public static bool Verifies(ReceivedWebhook webhook, string secret)
    {
        if (!secret.StartsWith("whsec_", StringComparison.Ordinal) || !long.TryParse(webhook.Timestamp, out var seconds))
        {
            return false;
        }
        // Replays: a receiver refuses timestamps far from its clock.
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return false;
        }
        using var hmac = new HMACSHA256(Convert.FromBase64String(secret["whsec_".Length..]));
        var expected = hmac.ComputeHash(Encoding.UTF8.GetBytes(webhook.Id + "." + webhook.Timestamp + "." + webhook.Body));
        foreach (var signature in webhook.Signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = signature.Split(',', 2);
            if (parts.Length == 2 && parts[0] == "v1" && CryptographicOperations.FixedTimeEquals(SafeBase64(parts[1]), expected))
            {
                return true;
            }
        }
        return false;
    }

    private static byte[] SafeBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return [];
        }
    }
}
