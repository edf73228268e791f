using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>What the emulator answers: a JSON body, a Meta error, or a raw (possibly non-JSON) response.</summary>
public sealed class GraphResponse
{
    public int Status { get; init; } = 200;

    public JsonNode? Json { get; init; }

    public GraphError? Error { get; init; }

    public string? RawBody { get; init; }

    public string? RawContentType { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Report usage headers at 100 (a rate-limit error).</summary>
    public bool Throttled { get; init; }

    public int? EstimatedTimeToRegainAccessMinutes { get; init; }

    public int? RetryAfterSeconds { get; init; }

    public static GraphResponse Ok(JsonNode json) => new() { Json = json };

    public static GraphResponse Fail(GraphError error) => new()
    {
        Status = error.Status,
        Error = error,
        Throttled = ErrorCatalog.IsRateLimit(error.Code),
    };
}

/// <summary>What the emulator took a request for, and whom it concerns (for faults, journal and usage headers).</summary>
public readonly record struct GraphRoute(string Operation, Product Product, string? Account, string? Recipient);

/// <summary>JSON output like Meta's: no HTML-escaping of '+', quotes or non-ASCII.</summary>
public static class GraphJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

public static class Operations
{
    public const string WhatsAppSend = "wa_send";
    public const string InstagramCreateMedia = "ig_create_media";
    public const string InstagramPublish = "ig_publish";
    public const string InstagramPublishingLimit = "ig_publishing_limit";
    public const string InstagramDm = "ig_dm";
    public const string InstagramInsights = "ig_insights";
    public const string GetObject = "get_object";
    public const string TokenExchange = "token_exchange";
    public const string TokenRefresh = "token_refresh";
    public const string Unsupported = "unsupported";
}
