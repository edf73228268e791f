using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SocialSync.GraphApiEmulator.State;

/// <summary>One Graph API request as the emulator received and answered it.</summary>
public sealed class JournalEntry
{
    public long Seq { get; init; }

    public DateTimeOffset Time { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public string? Query { get; init; }

    public string? Account { get; init; }

    /// <summary>What the emulator took the request for (wa_send, ig_create_media, ig_publish, ...).</summary>
    public required string Operation { get; init; }

    public string? Recipient { get; init; }

    public string? Token { get; init; }

    public string? ContentType { get; init; }

    /// <summary>The request body as JSON: parsed JSON, form fields as an object, or the raw text as a string.</summary>
    public JsonNode? Body => RawBody is null ? null : ParseBody();

    public int Status { get; set; }

    /// <summary>null, "before" or "after_commit".</summary>
    public string? Dropped { get; set; }

    public string? FaultId { get; set; }

    public double DurationMs { get; set; }

    [JsonIgnore]
    public string? RawBody { get; init; }

    [JsonIgnore]
    public bool BodyIsJson { get; init; }

    private JsonNode? ParseBody()
    {
        if (BodyIsJson)
        {
            try
            {
                return JsonNode.Parse(RawBody!);
            }
            catch (System.Text.Json.JsonException)
            {
                // fall through: keep the raw text
            }
        }

        return JsonValue.Create(RawBody);
    }
}

/// <summary>A bounded, lock-free append-only log.</summary>
public sealed class BoundedLog<T>(int capacity)
{
    private readonly ConcurrentQueue<T> items = new();
    private int count;

    public int Capacity { get; } = Math.Max(1, capacity);

    public void Add(T item)
    {
        items.Enqueue(item);
        if (Interlocked.Increment(ref count) > Capacity && items.TryDequeue(out _))
        {
            Interlocked.Decrement(ref count);
        }
    }

    public T[] Snapshot() => items.ToArray();

    public void Clear()
    {
        while (items.TryDequeue(out _))
        {
            Interlocked.Decrement(ref count);
        }
    }
}

/// <summary>A side effect: a WhatsApp message accepted, an Instagram media published, or an Instagram DM sent.</summary>
public sealed class Effect
{
    public long Seq { get; init; }

    /// <summary>whatsapp_message, instagram_media or instagram_dm.</summary>
    public required string Kind { get; init; }

    public DateTimeOffset Time { get; init; }

    public required string Account { get; init; }

    /// <summary>Journal seq of the request that caused it.</summary>
    public long RequestSeq { get; init; }

    // WhatsApp
    public string? Wamid { get; init; }

    public string? PhoneNumberId { get; init; }

    public string? To { get; init; }

    public string? WaId { get; init; }

    public string? Type { get; init; }

    public string? Text { get; init; }

    public string? Caption { get; init; }

    public string? Link { get; init; }

    public string? MediaId { get; init; }

    public string? Filename { get; init; }

    public JsonNode? Template { get; init; }

    public string? BizOpaqueCallbackData { get; init; }

    // Instagram media
    public string? ContainerId { get; init; }

    public string? MediaType { get; init; }

    public string? MediaProductType { get; init; }

    public IReadOnlyList<string>? Children { get; init; }

    public IReadOnlyList<string>? ChildMediaIds { get; init; }

    public string? Permalink { get; init; }

    // Instagram DM
    public string? RecipientId { get; init; }

    public string? MessageId { get; init; }
}
