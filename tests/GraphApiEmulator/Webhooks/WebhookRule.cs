using System.Text.Json.Serialization;

namespace SocialSync.GraphApiEmulator.Webhooks;

/// <summary>
/// How the status webhooks of matching messages (by phone number id and recipient) differ from the defaults: other
/// statuses, late, duplicated, out of order, badly signed, or never sent. Applies to <see cref="Times"/> messages
/// (0 = every one); the first rule that matches and still has uses wins.
/// </summary>
public sealed class WebhookRule
{
    private int remaining;

    public required string Id { get; init; }

    public string? Account { get; init; }

    public string? Recipient { get; init; }

    /// <summary>The statuses to send instead of the defaults (sent, delivered, read, failed).</summary>
    public IReadOnlyList<string>? Statuses { get; init; }

    /// <summary>For a failed status: Meta's error code (e.g. 131047 outside the 24-hour window).</summary>
    public int ErrorCode { get; init; } = 131026;

    /// <summary>Extra virtual milliseconds before the first status: a late webhook.</summary>
    public int DelayMs { get; init; }

    /// <summary>How many times each status is delivered (2: every one is duplicated).</summary>
    public int Copies { get; init; } = 1;

    /// <summary>Deliver the statuses last first (read before delivered before sent); their timestamps stay true.</summary>
    public bool OutOfOrder { get; init; }

    /// <summary>Sign with another key than the app secret, as a forger would.</summary>
    public bool BadSignature { get; init; }

    /// <summary>Send no status at all for the message.</summary>
    public bool Never { get; init; }

    public int Times { get; init; }

    [JsonPropertyName("remaining")]
    public int Remaining => Times == 0 ? -1 : Volatile.Read(ref remaining);

    public void Arm() => remaining = Times;

    public bool Matches(string account, string waId) =>
        (Account is null || Account == account)
        && (Recipient is null || State.Fault.Digits(Recipient) == waId);

    public bool TryConsume()
    {
        if (Times == 0)
        {
            return true;
        }

        while (true)
        {
            var current = Volatile.Read(ref remaining);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref remaining, current - 1, current) == current)
            {
                return true;
            }
        }
    }
}
