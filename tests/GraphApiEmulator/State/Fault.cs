using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Text.Json.Serialization;

namespace SocialSync.GraphApiEmulator.State;

public enum DropMode
{
    None,
    Before,
    AfterCommit,
}

/// <summary>An injected fault. Matches on method, path regex, account and recipient; fires <see cref="Times"/> times (0 = forever).</summary>
public sealed class Fault
{
    private int remaining;
    private long hits;

    public required string Id { get; init; }

    public string? Method { get; init; }

    public string? PathRegex { get; init; }

    [JsonIgnore]
    public Regex? PathPattern { get; init; }

    public string? Account { get; init; }

    public string? Recipient { get; init; }

    /// <summary>Raw response: status + body (+ headers).</summary>
    public int? ResponseStatus { get; init; }

    public JsonNode? ResponseBody { get; init; }

    public IReadOnlyDictionary<string, string>? ResponseHeaders { get; init; }

    public string? Preset { get; init; }

    public int? Code { get; init; }

    public int? Subcode { get; init; }

    /// <summary>HTTP status override for code/preset faults.</summary>
    public int? Status { get; init; }

    public string? Message { get; init; }

    public bool? IsTransient { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public int? EstimatedTimeToRegainAccessMinutes { get; init; }

    public int Times { get; init; } = 1;

    public int DelayMs { get; init; }

    [JsonIgnore]
    public DropMode Drop { get; init; }

    [JsonPropertyName("drop")]
    public string? DropName => Drop switch
    {
        DropMode.Before => "before",
        DropMode.AfterCommit => "after_commit",
        _ => null,
    };

    public int Remaining => Times == 0 ? -1 : Volatile.Read(ref remaining);

    public long Hits => Interlocked.Read(ref hits);

    /// <summary>True when the fault replaces the response (as opposed to only delaying or dropping).</summary>
    [JsonIgnore]
    public bool ReplacesResponse => ResponseStatus is not null || ResponseBody is not null || Preset is not null || Code is not null;

    public void Arm() => remaining = Times;

    public bool Matches(string method, string path, string? account, string? recipient)
    {
        if (Method is not null && !string.Equals(Method, method, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (Account is not null && !string.Equals(Account, account, StringComparison.Ordinal))
        {
            return false;
        }

        if (Recipient is not null && !RecipientMatches(recipient))
        {
            return false;
        }

        return PathPattern is null || PathPattern.IsMatch(path);
    }

    /// <summary>Consumes one firing; false when the fault is used up.</summary>
    public bool TryConsume()
    {
        if (Times == 0)
        {
            Interlocked.Increment(ref hits);
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
                Interlocked.Increment(ref hits);
                return true;
            }
        }
    }

    private bool RecipientMatches(string? recipient)
    {
        if (recipient is null)
        {
            return false;
        }

        if (string.Equals(Recipient, recipient, StringComparison.Ordinal))
        {
            return true;
        }

        // WhatsApp numbers: compare digits only so "+1 650-555" matches "1650555".
        return Digits(Recipient!) is { Length: > 0 } a && a == Digits(recipient);
    }

    internal static string Digits(string value)
    {
        Span<char> buffer = value.Length <= 64 ? stackalloc char[value.Length] : new char[value.Length];
        var n = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                buffer[n++] = c;
            }
        }

        return new string(buffer[..n]);
    }
}

/// <summary>The ordered list of faults; copy-on-write so matching needs no lock.</summary>
public sealed class FaultStore
{
    private readonly Lock gate = new();
    private volatile Fault[] faults = [];

    public IReadOnlyList<Fault> All => faults;

    public void Add(Fault fault)
    {
        fault.Arm();
        lock (gate)
        {
            faults = [.. faults, fault];
        }
    }

    public bool Remove(string id)
    {
        lock (gate)
        {
            var before = faults;
            faults = Array.FindAll(before, f => f.Id != id);
            return faults.Length != before.Length;
        }
    }

    public void Clear()
    {
        lock (gate)
        {
            faults = [];
        }
    }

    public Fault? Match(string method, string path, string? account, string? recipient)
    {
        var snapshot = faults;
        if (snapshot.Length == 0)
        {
            return null;
        }

        foreach (var fault in snapshot)
        {
            if (fault.Matches(method, path, account, recipient) && fault.TryConsume())
            {
                return fault;
            }
        }

        return null;
    }
}
