using System.Net;
using System.Security.Cryptography;
using System.Text;
using SocialSync.MediaInspection;

namespace SocialSync.PostsService.Domain;

/// <summary>Settings of the outbound webhooks (section "Webhooks", docs/webhooks.md "Webhooks out").</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>
    /// Lets endpoints use http and internal hosts (loopback, private networks). Off by default: an endpoint URL is a
    /// user's input, and PostsService must not be made to call the services next to it. Tests and local setups set it.
    /// </summary>
    public bool AllowInsecureUrls { get; set; }

    /// <summary>The default retry schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 20 h, 24 h, about 3 days in all.</summary>
    public static readonly TimeSpan[] DefaultRetryDelays =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
        TimeSpan.FromHours(10), TimeSpan.FromHours(10), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    /// <summary>
    /// The waits before each retry of a failed delivery; after the last one fails, the event is given up for that
    /// endpoint. Unset means <see cref="DefaultRetryDelays"/> (not a default value here: the configuration binder
    /// appends to an array it finds filled).
    /// </summary>
    public TimeSpan[]? RetryDelays { get; set; }

    public IReadOnlyList<TimeSpan> Schedule => RetryDelays is { Length: > 0 } configured ? configured : DefaultRetryDelays;

    /// <summary>Each wait is shortened by up to this share at random, so retries of many events do not come at once.</summary>
    public double JitterRatio { get; set; } = 0.2;

    /// <summary>An endpoint is disabled once this many attempts in a row failed...</summary>
    public int DisableAfterFailures { get; set; } = 10;

    /// <summary>
    /// ...and the first of them is at least this old (so a short outage with many events disables nothing). Shorter
    /// than the retry schedule (even with its jitter), so that an endpoint that never answers is disabled by its first
    /// event's last attempt at the latest.
    /// </summary>
    public TimeSpan DisableAfterFailingFor { get; set; } = TimeSpan.FromDays(2);

    /// <summary>
    /// How long a delivered or given-up event stays in the endpoint's log (ListWebhookDeliveries) and can be sent again
    /// (RedeliverWebhook); then it is deleted with its attempts. Pending events are kept until they end.
    /// </summary>
    public TimeSpan DeliveryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How long the secret before a rotation still signs.</summary>
    public TimeSpan RotationGracePeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long one delivery request may take, connection included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the worker looks for new events and due retries when nothing woke it.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many deliveries are sent at once.</summary>
    public int Concurrency { get; set; } = 8;
}

/// <summary>
/// The rules of outbound webhooks written once: which URLs and event types an endpoint may have, the Standard Webhooks
/// secret and signature, and the retry schedule.
/// </summary>
public static class WebhookRules
{
    public const int MaxUrlLength = 2048;
    public const int MaxDescriptionLength = 500;
    public const int MaxEventTypes = 50;
    public const string SecretPrefix = "whsec_";

    public const string ChannelNeedsReconnect = "channel.needs_reconnect";

    /// <summary>An A/B experiment was decided (docs/experiments.md); queued by <c>ExperimentStore.FinishDueAsync</c>.</summary>
    public const string ExperimentFinished = "experiment.finished";

    /// <summary>Another endpoint of the workspace was disabled after persistent failure; queued by <c>WebhookDeliveryStore.RecordAttemptAsync</c>.</summary>
    public const string WebhookEndpointDisabled = "webhook_endpoint.disabled";

    /// <summary>Every event type an endpoint may ask for: a post's create, edit and deletion, each post status it may reach, a channel needing reconnection, an experiment finished, and another endpoint disabled.</summary>
    public static readonly IReadOnlySet<string> EventTypes = new[] { "created", "edited", "deleted" }
        .Concat(Enum.GetValues<Posts.V1.PostStatus>().Where(s => s != Posts.V1.PostStatus.Unspecified).Select(Contracts.Vocabulary.ToDb))
        .Select(word => "post." + word)
        .Append(ChannelNeedsReconnect)
        .Append(ExperimentFinished)
        .Append(WebhookEndpointDisabled)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Checks an endpoint's URL (under <paramref name="field"/>): absolute, https (unless allowed), no credentials, not an internal host (unless allowed).</summary>
    public static void CheckUrl(string url, string field, bool allowInsecure, FieldViolations violations)
    {
        if (url.Length is 0 or > MaxUrlLength)
        {
            violations.Add(field, $"is required, at most {MaxUrlLength} characters");
            return;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            violations.Add(field, "must be an absolute https URL");
            return;
        }
        if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecure)
        {
            violations.Add(field, "must use https: webhooks carry a workspace's events");
        }
        else if (uri.UserInfo.Length > 0)
        {
            violations.Add(field, "must not carry a user name or password");
        }
        else if (!allowInsecure && IsInternalHost(uri))
        {
            violations.Add(field, "names an internal host (loopback, a private network or the like)");
        }
    }

    /// <summary>Checks an endpoint's event types filter: known types, or families written "post.*" / "channel.*".</summary>
    public static void CheckEventTypes(IReadOnlyList<string> types, string field, FieldViolations violations)
    {
        if (types.Count > MaxEventTypes)
        {
            violations.Add(field, $"has more than {MaxEventTypes} types");
        }
        for (var i = 0; i < types.Count; i++)
        {
            var type = types[i];
            var known = EventTypes.Contains(type)
                || (type.EndsWith(".*", StringComparison.Ordinal) && EventTypes.Any(t => t.StartsWith(type[..^1], StringComparison.Ordinal)));
            if (!known)
            {
                violations.Add($"{field}[{i}]", $"'{type}' is not an event type: use one of {string.Join(", ", EventTypes.Order(StringComparer.Ordinal))}, or post.*");
            }
        }
    }

    public static void CheckDescription(string description, string field, FieldViolations violations)
    {
        if (description.Length > MaxDescriptionLength)
        {
            violations.Add(field, $"must be at most {MaxDescriptionLength} characters");
        }
    }

    /// <summary>A new secret: whsec_ and the base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// The webhook-signature value: "v1,&lt;base64 HMAC-SHA256&gt;" of "{id}.{timestamp}.{body}" under each secret, space-separated
    /// (the current secret first, then one still in its grace period).
    /// </summary>
    public static string Sign(string eventId, long timestamp, string body, IEnumerable<string> secrets)
    {
        var signed = Encoding.UTF8.GetBytes($"{eventId}.{timestamp}.{body}");
        return string.Join(' ', secrets.Select(secret => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(secret[SecretPrefix.Length..]), signed))));
    }

    /// <summary>
    /// The wait before the next attempt after <paramref name="attemptsInSchedule"/> failed ones of the current schedule;
    /// null when the schedule is over (the event is given up). <paramref name="random01"/> in [0, 1) shortens it by up to the jitter.
    /// </summary>
    public static TimeSpan? NextDelay(WebhookOptions options, int attemptsInSchedule, double random01)
    {
        var index = attemptsInSchedule - 1;
        var schedule = options.Schedule;
        if (index < 0 || index >= schedule.Count)
        {
            return null;
        }
        return schedule[index] * (1 - options.JitterRatio * random01);
    }

    private static bool IsInternalHost(Uri uri) =>
        uri.IsLoopback
        || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && AddressRules.IsInternal(address));
}
