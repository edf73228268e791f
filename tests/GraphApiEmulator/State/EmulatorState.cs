using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SocialSync.GraphApiEmulator.Webhooks;

namespace SocialSync.GraphApiEmulator.State;

/// <summary>All emulator state, in memory. Thread-safe; the hot path uses concurrent collections and Interlocked ids.</summary>
public sealed class EmulatorState
{
    private readonly string instancePrefix = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.NextInt64()))[..8];
    private long requestSeq;
    private long effectSeq;
    private long objectSeq;
    private long faultSeq;
    private long appUsageHour = -1;
    private long appUsageCount;
    private long requests;
    private long dropped;
    private long faultsFired;
    private long whatsappMessages;
    private long instagramMedia;
    private long instagramDms;

    public EmulatorState(IOptions<EmulatorOptions> options, EmulatorClock clock)
    {
        Options = options.Value;
        Clock = clock;
        Journal = new BoundedLog<JournalEntry>(Options.JournalCapacity);
        Effects = new BoundedLog<Effect>(Options.EffectsCapacity);
        Webhooks = new StatusWebhooks(Options.Webhooks, clock, Options.JournalCapacity);
    }

    /// <summary>The status webhooks of accepted WhatsApp messages.</summary>
    public StatusWebhooks Webhooks { get; }

    public EmulatorOptions Options { get; }

    public EmulatorClock Clock { get; }

    public ConcurrentDictionary<string, AccountState> Accounts { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, Container> Containers { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, Media> Media { get; } = new(StringComparer.Ordinal);

    public BoundedLog<JournalEntry> Journal { get; }

    public BoundedLog<Effect> Effects { get; }

    public FaultStore Faults { get; } = new();

    /// <summary>Tokens with a known lifetime (<see cref="IssuedToken"/>), by token.</summary>
    public ConcurrentDictionary<string, IssuedToken> Tokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The lifetime of <paramref name="token"/> when the emulator knows it, else null (valid forever).</summary>
    public IssuedToken? FindToken(string? token) => token is not null && Tokens.TryGetValue(token, out var issued) ? issued : null;

    public AccountState Account(string id) => Accounts.GetOrAdd(id, static key => new AccountState(key));

    public AccountState? FindAccount(string? id) => id is not null && Accounts.TryGetValue(id, out var account) ? account : null;

    public long NextRequestSeq() => Interlocked.Increment(ref requestSeq);

    public long NextEffectSeq() => Interlocked.Increment(ref effectSeq);

    public string NextFaultId() => $"fault-{Interlocked.Increment(ref faultSeq)}";

    public string NextContainerId() => (17_900_000_000_000_000L + Interlocked.Increment(ref objectSeq)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string NextMediaId() => (18_000_000_000_000_000L + Interlocked.Increment(ref objectSeq)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string NextWamid(string waId)
    {
        var n = Interlocked.Increment(ref objectSeq);
        var raw = System.Text.Encoding.ASCII.GetBytes($"{waId}:{instancePrefix}:{n:X16}");
        return "wamid.HBgL" + Convert.ToBase64String(raw).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public string NextDmMessageId(string account)
    {
        var n = Interlocked.Increment(ref objectSeq);
        var raw = System.Text.Encoding.ASCII.GetBytes($"ig_item:1:IGMessageID:{account}:{instancePrefix}{n}");
        return Convert.ToBase64String(raw).TrimEnd('=');
    }

    public string NextShortcode()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var n = (ulong)Interlocked.Increment(ref objectSeq) * 0x9E3779B97F4A7C15UL;
        Span<char> code = stackalloc char[11];
        for (var i = 0; i < code.Length; i++)
        {
            code[i] = alphabet[(int)(n & 63)];
            n = (n >> 6) | (n << 58);
            if (i == 4)
            {
                n ^= (ulong)Random.Shared.NextInt64();
            }
        }

        return new string(code);
    }

    /// <summary>Counts an app-level call in the current virtual hour.</summary>
    public long CountAppCall(DateTimeOffset now)
    {
        var hour = now.ToUnixTimeSeconds() / 3600;
        var seen = Interlocked.Read(ref appUsageHour);
        if (seen != hour && Interlocked.CompareExchange(ref appUsageHour, hour, seen) == seen)
        {
            Interlocked.Exchange(ref appUsageCount, 0);
        }

        return Interlocked.Increment(ref appUsageCount);
    }

    public void CountRequest(bool wasDropped, bool faulted)
    {
        Interlocked.Increment(ref requests);
        if (wasDropped)
        {
            Interlocked.Increment(ref dropped);
        }

        if (faulted)
        {
            Interlocked.Increment(ref faultsFired);
        }
    }

    public void AddEffect(Effect effect)
    {
        Effects.Add(effect);
        _ = effect.Kind switch
        {
            EffectKinds.WhatsAppMessage => Interlocked.Increment(ref whatsappMessages),
            EffectKinds.InstagramMedia => Interlocked.Increment(ref instagramMedia),
            _ => Interlocked.Increment(ref instagramDms),
        };
    }

    public object Stats() => new
    {
        requests = Interlocked.Read(ref requests),
        dropped = Interlocked.Read(ref dropped),
        faults_fired = Interlocked.Read(ref faultsFired),
        whatsapp_messages = Interlocked.Read(ref whatsappMessages),
        instagram_media = Interlocked.Read(ref instagramMedia),
        instagram_dms = Interlocked.Read(ref instagramDms),
        accounts = Accounts.Count,
        containers = Containers.Count,
        now = Clock.GetUtcNow(),
        clock_offset_seconds = Clock.Offset.TotalSeconds,
    };

    /// <summary>
    /// Clears journal, effects, faults, accounts, containers, media, tokens, pending webhooks and their rules, and counters
    /// (the clock keeps running; the webhook callback stays set).
    /// </summary>
    public void Reset()
    {
        Faults.Clear();
        Journal.Clear();
        Effects.Clear();
        Accounts.Clear();
        Containers.Clear();
        Media.Clear();
        Tokens.Clear();
        Webhooks.Reset();
        Interlocked.Exchange(ref requests, 0);
        Interlocked.Exchange(ref dropped, 0);
        Interlocked.Exchange(ref faultsFired, 0);
        Interlocked.Exchange(ref whatsappMessages, 0);
        Interlocked.Exchange(ref instagramMedia, 0);
        Interlocked.Exchange(ref instagramDms, 0);
    }
}

public static class EffectKinds
{
    public const string WhatsAppMessage = "whatsapp_message";
    public const string InstagramMedia = "instagram_media";
    public const string InstagramDm = "instagram_dm";
}
