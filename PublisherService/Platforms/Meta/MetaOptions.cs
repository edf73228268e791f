namespace SocialSync.PublisherService.Platforms.Meta;

/// <summary>Settings of Meta's Graph API, which WhatsApp and Instagram share (section "Meta").</summary>
public sealed class MetaOptions
{
    public const string SectionName = "Meta";

    /// <summary>Meta's Graph API host in production; the local emulator in development (set by the AppHost).</summary>
    public Uri GraphApiBaseUrl { get; set; } = new("https://graph.facebook.com");

    public string ApiVersion { get; set; } = "v23.0";

    /// <summary>
    /// Where Instagram tokens are refreshed (refresh_access_token); unset: graph.instagram.com when
    /// <see cref="GraphApiBaseUrl"/> is Meta's, else <see cref="GraphApiBaseUrl"/> (the emulator serves both).
    /// </summary>
    public Uri? InstagramTokenBaseUrl { get; set; }

    public Uri InstagramTokenHost => InstagramTokenBaseUrl
        ?? (GraphApiBaseUrl.Host == "graph.facebook.com" ? new Uri("https://graph.instagram.com") : GraphApiBaseUrl);

    /// <summary>One HTTP request's budget. A POST that times out is ambiguous: it may have been applied.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to hold a channel after a rate limit that names no time of its own.</summary>
    public TimeSpan DefaultRateLimitDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Instagram: how long to wait for a container to finish processing (polls are not retries).</summary>
    public TimeSpan ContainerProcessingBudget { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan ContainerPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Instagram: how long to defer a post when the 24-hour publishing quota is used up. Meta's
    /// content_publishing_limit tells how much is used, not when the oldest publish leaves the rolling window.
    /// </summary>
    public TimeSpan QuotaRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The Meta app's secret: Meta signs every webhook with it (X-Hub-Signature-256). A secret setting.</summary>
    public string AppSecret { get; set; } = "";

    /// <summary>The token Meta's webhook subscription handshake must present (hub.verify_token). A secret setting.</summary>
    public string WebhookVerifyToken { get; set; } = "";

    /// <summary>How many recent statuses are remembered to drop Meta's repeated deliveries before PostsService.</summary>
    public int WebhookDeduplicationCapacity { get; set; } = 100_000;
}
