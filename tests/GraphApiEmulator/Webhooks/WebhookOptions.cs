namespace SocialSync.GraphApiEmulator.Webhooks;

/// <summary>
/// Status webhooks, as Meta sends them after a WhatsApp message is accepted (section "Emulator:Webhooks"). With no
/// <see cref="CallbackUrl"/> none are sent; the control API (<c>PUT /__emu/webhooks</c>) can set it later.
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>Where status webhooks are POSTed (the app's subscribed callback URL).</summary>
    public string? CallbackUrl { get; set; }

    /// <summary>The Meta app's secret: every delivery is signed with it (X-Hub-Signature-256).</summary>
    public string? AppSecret { get; set; }

    /// <summary>The statuses each accepted message goes through, in order, unless a rule says otherwise.</summary>
    public List<string> Statuses { get; set; } = ["sent", "delivered", "read"];

    /// <summary>Virtual milliseconds between a send and its first status.</summary>
    public int DelayMs { get; set; } = 50;

    /// <summary>Virtual milliseconds between one status of a message and the next.</summary>
    public int IntervalMs { get; set; } = 50;

    /// <summary>
    /// How many times a delivery the callback did not answer with 2xx is tried in all; Meta retries failed deliveries
    /// for days with growing delays (its exact schedule is not documented), so this is a setting.
    /// </summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Virtual milliseconds before the first retry; each later one waits twice as long.</summary>
    public int RetryDelayMs { get; set; } = 250;

    /// <summary>The WhatsApp Business Account id reported in <c>entry[].id</c>.</summary>
    public string BusinessAccountId { get; set; } = "102290129340398";
}
