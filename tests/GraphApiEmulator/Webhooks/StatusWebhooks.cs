using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using SocialSync.GraphApiEmulator.Graph;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Webhooks;

/// <summary>One status webhook waiting to be delivered (or retried) at <see cref="DueAt"/> virtual time.</summary>
public sealed class PendingWebhook
{
    public required long Seq { get; init; }

    public required string Wamid { get; init; }

    public required string Status { get; init; }

    public required string Body { get; init; }

    public required string Signature { get; init; }

    public DateTimeOffset DueAt { get; set; }

    public int Attempts { get; set; }
}

/// <summary>One delivery attempt of a status webhook, as the journal keeps it.</summary>
public sealed class WebhookDelivery
{
    public long Seq { get; init; }

    public DateTimeOffset Time { get; init; }

    public required string Url { get; init; }

    public required string Wamid { get; init; }

    public required string Status { get; init; }

    public int Attempt { get; init; }

    /// <summary>The callback's HTTP status; 0 when it could not be reached.</summary>
    public int HttpStatus { get; init; }

    public string? Error { get; init; }

    /// <summary>The exact body sent and its X-Hub-Signature-256 header, so a test can replay it.</summary>
    public required string Body { get; init; }

    public required string Signature { get; init; }

    [JsonIgnore]
    public bool Delivered => HttpStatus is >= 200 and < 300;
}

/// <summary>
/// The status webhooks of accepted WhatsApp messages: which to send (defaults and <see cref="WebhookRule"/>s), when,
/// signed how, and the journal of deliveries. <see cref="WebhookSender"/> delivers what is due.
/// </summary>
public sealed class StatusWebhooks
{
    private readonly Lock gate = new();
    private readonly PriorityQueue<PendingWebhook, (DateTimeOffset, long)> pending = new();
    private readonly EmulatorClock clock;
    private volatile WebhookRule[] rules = [];
    private long seq;
    private long ruleSeq;
    private volatile string? callbackUrl;
    private volatile string? appSecret;

    public StatusWebhooks(WebhookOptions options, EmulatorClock clock, int journalCapacity)
    {
        Options = options;
        this.clock = clock;
        callbackUrl = options.CallbackUrl;
        appSecret = options.AppSecret;
        Deliveries = new BoundedLog<WebhookDelivery>(journalCapacity);
    }

    public WebhookOptions Options { get; }

    public string? CallbackUrl => callbackUrl;

    public bool HasAppSecret => !string.IsNullOrEmpty(appSecret);

    public IReadOnlyList<WebhookRule> Rules => rules;

    public BoundedLog<WebhookDelivery> Deliveries { get; }

    public int PendingCount
    {
        get
        {
            lock (gate)
            {
                return pending.Count;
            }
        }
    }

    public void Configure(string? url, string? secret)
    {
        callbackUrl = url;
        appSecret = secret;
    }

    public string AddRule(Func<string, WebhookRule> create)
    {
        var rule = create($"webhook-rule-{Interlocked.Increment(ref ruleSeq)}");
        rule.Arm();
        lock (gate)
        {
            rules = [.. rules, rule];
        }

        return rule.Id;
    }

    public void ClearRules()
    {
        lock (gate)
        {
            rules = [];
        }
    }

    /// <summary>Schedules the status webhooks of a message WhatsApp just accepted (none when no callback is set).</summary>
    public void MessageAccepted(Effect message, DateTimeOffset now)
    {
        if (callbackUrl is null || message.Wamid is null || message.PhoneNumberId is null)
        {
            return;
        }

        var waId = message.WaId ?? "";
        var rule = Array.Find(rules, r => r.Matches(message.PhoneNumberId, waId) && r.TryConsume());
        if (rule is { Never: true })
        {
            return;
        }

        var statuses = rule?.Statuses ?? Options.Statuses;
        var first = now.AddMilliseconds(Options.DelayMs + (rule?.DelayMs ?? 0));
        var secret = rule is { BadSignature: true } ? "not-the-app-secret" : appSecret ?? "";
        lock (gate)
        {
            for (var i = 0; i < statuses.Count; i++)
            {
                // The status's own time stays in order; out of order only changes when it is delivered.
                var happenedAt = first.AddMilliseconds(i * Options.IntervalMs);
                var order = rule is { OutOfOrder: true } ? statuses.Count - 1 - i : i;
                var dueAt = first.AddMilliseconds(order * Options.IntervalMs);
                var body = Payload(message, waId, statuses[i], happenedAt, rule?.ErrorCode ?? 131026);
                for (var copy = 0; copy < Math.Max(1, rule?.Copies ?? 1); copy++)
                {
                    var webhook = new PendingWebhook
                    {
                        Seq = Interlocked.Increment(ref seq),
                        Wamid = message.Wamid,
                        Status = statuses[i],
                        Body = body,
                        Signature = Sign(secret, body),
                        DueAt = dueAt,
                    };
                    pending.Enqueue(webhook, (webhook.DueAt, webhook.Seq));
                }
            }
        }
    }

    /// <summary>Takes every webhook due by now (or all of them), earliest first.</summary>
    public List<PendingWebhook> TakeDue(bool all = false)
    {
        var now = clock.GetUtcNow();
        var due = new List<PendingWebhook>();
        lock (gate)
        {
            while (pending.TryPeek(out var next, out _) && (all || next.DueAt <= now))
            {
                due.Add(pending.Dequeue());
            }
        }

        return due;
    }

    /// <summary>Puts a delivery the callback refused back, after a growing delay, unless it has used its attempts.</summary>
    public bool Retry(PendingWebhook webhook)
    {
        if (webhook.Attempts >= Options.MaxAttempts)
        {
            return false;
        }

        webhook.DueAt = clock.GetUtcNow().AddMilliseconds(Options.RetryDelayMs * Math.Pow(2, webhook.Attempts - 1));
        lock (gate)
        {
            pending.Enqueue(webhook, (webhook.DueAt, webhook.Seq));
        }

        return true;
    }

    public void Reset()
    {
        lock (gate)
        {
            pending.Clear();
            rules = [];
        }

        Deliveries.Clear();
    }

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the raw body under <paramref name="secret"/>, as Meta signs.</summary>
    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    /// <summary>A WhatsApp Business Account "messages" change with one status, in Meta's shape.</summary>
    private string Payload(Effect message, string waId, string status, DateTimeOffset at, int errorCode)
    {
        var item = new JsonObject
        {
            ["id"] = message.Wamid,
            ["status"] = status,
            ["timestamp"] = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["recipient_id"] = waId,
        };
        if (message.BizOpaqueCallbackData is { } callbackData)
        {
            item["biz_opaque_callback_data"] = callbackData;
        }

        if (status == "failed")
        {
            var error = ErrorCatalog.Create(errorCode, null, Product.WhatsApp);
            item["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = errorCode,
                ["title"] = error.Message,
                ["message"] = error.Message,
                ["error_data"] = new JsonObject { ["details"] = error.Details ?? error.Message },
                ["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            });
        }

        return new JsonObject
        {
            ["object"] = "whatsapp_business_account",
            ["entry"] = new JsonArray(new JsonObject
            {
                ["id"] = Options.BusinessAccountId,
                ["changes"] = new JsonArray(new JsonObject
                {
                    ["field"] = "messages",
                    ["value"] = new JsonObject
                    {
                        ["messaging_product"] = "whatsapp",
                        ["metadata"] = new JsonObject
                        {
                            ["display_phone_number"] = "15550000000",
                            ["phone_number_id"] = message.PhoneNumberId,
                        },
                        ["statuses"] = new JsonArray(item),
                    },
                }),
            }),
        }.ToJsonString(GraphJson.Options);
    }
}
