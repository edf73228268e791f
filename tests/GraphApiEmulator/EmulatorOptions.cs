namespace SocialSync.GraphApiEmulator;

/// <summary>Emulator-wide defaults, bound from the "Emulator" configuration section.</summary>
public sealed class EmulatorOptions
{
    public const string SectionName = "Emulator";

    /// <summary>Maximum number of journal entries kept (oldest are dropped first).</summary>
    public int JournalCapacity { get; set; } = 200_000;

    /// <summary>Maximum number of side effects kept (oldest are dropped first).</summary>
    public int EffectsCapacity { get; set; } = 1_000_000;

    /// <summary>Instagram publishing quota per rolling 24 h when an account does not set its own.</summary>
    public int DefaultQuotaTotal { get; set; } = 50;

    /// <summary>Virtual milliseconds an image container stays IN_PROGRESS (negative: never finishes).</summary>
    public int ImageProcessingDelayMs { get; set; }

    /// <summary>Virtual milliseconds a video/reel container stays IN_PROGRESS (negative: never finishes).</summary>
    public int VideoProcessingDelayMs { get; set; } = 300;

    /// <summary>Calls per hour that make X-App-Usage reach 100 % (kept high so benchmarks are not self-throttled).</summary>
    public long AppCallCapacityPerHour { get; set; } = 10_000_000;

    /// <summary>Calls per hour and account that make X-Business-Use-Case-Usage reach 100 %.</summary>
    public long AccountCallCapacityPerHour { get; set; } = 1_000_000;

    /// <summary>Status webhooks after WhatsApp sends (none until a callback URL is set).</summary>
    public Webhooks.WebhookOptions Webhooks { get; set; } = new();
}
