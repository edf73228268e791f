using System.Collections.Concurrent;

namespace SocialSync.GraphApiEmulator.State;

/// <summary>A token error configured for an account: every request to the account fails with it.</summary>
public sealed record TokenErrorSpec(int Code, int? Subcode, string? Message);

/// <summary>The error returned when a PUBLISHED container is published again.</summary>
public sealed record ErrorSpec(int Code, int? Subcode, int? Status, string? Message);

/// <summary>Per-account (phone_number_id or ig_user_id) settings and counters. Created on first use.</summary>
public sealed class AccountState(string id)
{
    private readonly Lock sync = new();
    private readonly Queue<DateTimeOffset> publishes = new();
    private long usageHour = -1;
    private long usageCount;

    public string Id { get; } = id;

    public int? QuotaTotal { get; set; }

    public int? ProcessingDelayMs { get; set; }

    public int? ImageProcessingDelayMs { get; set; }

    public int? ContainerErrorSubcode { get; set; }

    public bool RepublishReturnsSameId { get; set; }

    public ErrorSpec? RepublishError { get; set; }

    public TokenErrorSpec? TokenError { get; set; }

    public int? UsagePercent { get; set; }

    /// <summary>The account's IANA time zone, in which the insights model reads a media's publishing hour (null: UTC).</summary>
    public string? TimeZone { get; set; }

    public ConcurrentDictionary<string, byte> ExpiredTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Recipient id → virtual time the DM window was opened (by a simulated inbound message).</summary>
    public ConcurrentDictionary<string, DateTimeOffset> DmWindows { get; } = new(StringComparer.Ordinal);

    public static readonly TimeSpan QuotaDuration = TimeSpan.FromDays(1);

    /// <summary>Takes one slot of the rolling 24 h publishing quota, or returns false when it is used up.</summary>
    public bool TryConsumeQuota(DateTimeOffset now, int quotaTotal)
    {
        lock (sync)
        {
            Trim(now);
            if (publishes.Count >= quotaTotal)
            {
                return false;
            }

            publishes.Enqueue(now);
            return true;
        }
    }

    public int QuotaUsage(DateTimeOffset now, DateTimeOffset? since)
    {
        lock (sync)
        {
            Trim(now);
            if (since is null)
            {
                return publishes.Count;
            }

            var count = 0;
            foreach (var at in publishes)
            {
                if (at >= since)
                {
                    count++;
                }
            }

            return count;
        }
    }

    /// <summary>Counts a call in the current virtual hour and returns the calls so far in that hour.</summary>
    public long CountCall(DateTimeOffset now)
    {
        var hour = now.ToUnixTimeSeconds() / 3600;
        if (Interlocked.Read(ref usageHour) != hour)
        {
            lock (sync)
            {
                if (usageHour != hour)
                {
                    Interlocked.Exchange(ref usageCount, 0);
                    Interlocked.Exchange(ref usageHour, hour);
                }
            }
        }

        return Interlocked.Increment(ref usageCount);
    }

    public bool IsDmWindowOpen(string recipient, DateTimeOffset now, TimeSpan window) =>
        DmWindows.TryGetValue(recipient, out var openedAt) && now - openedAt < window && now >= openedAt;

    private void Trim(DateTimeOffset now)
    {
        while (publishes.Count > 0 && now - publishes.Peek() >= QuotaDuration)
        {
            publishes.Dequeue();
        }
    }
}
