using System.Net.Http.Json;
using System.Text.Json;

namespace SocialSync.Observability.Tests;

/// <summary>One span as the dashboard's telemetry API returns it (OTLP JSON).</summary>
public sealed record DashboardSpan(string Service, string Name, string TraceId, string SpanId, string ParentSpanId,
    IReadOnlyDictionary<string, string> Attributes)
{
    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;

    public override string ToString() => $"{Service}: {Name} {TraceId}/{SpanId} parent={ParentSpanId}";
}

/// <summary>Reads what a user sees on the dashboard's Traces page, through its own API (GET /api/telemetry/traces).</summary>
public sealed class DashboardTraces(HttpClient dashboard)
{
    private const int Limit = 10_000;

    public async Task<List<DashboardSpan>> SpansAsync()
    {
        var json = await dashboard.GetFromJsonAsync<JsonElement>($"/api/telemetry/traces?limit={Limit}");
        var spans = new List<DashboardSpan>();
        foreach (var resourceSpans in Find(json, "resourceSpans"))
        {
            foreach (var resource in resourceSpans.EnumerateArray())
            {
                var attributes = resource.TryGetProperty("resource", out var r) ? Attributes(r) : [];
                var service = attributes.GetValueOrDefault("service.name", "");
                foreach (var scope in Array(resource, "scopeSpans"))
                {
                    foreach (var span in Array(scope, "spans"))
                    {
                        spans.Add(new DashboardSpan(service, Text(span, "name"), Text(span, "traceId"), Text(span, "spanId"),
                            Text(span, "parentSpanId"), Attributes(span)));
                    }
                }
            }
        }
        return spans;
    }

    private static IEnumerable<JsonElement> Find(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(name) && property.Value.ValueKind == JsonValueKind.Array)
                {
                    yield return property.Value;
                }
                else
                {
                    foreach (var found in Find(property.Value, name))
                    {
                        yield return found;
                    }
                }
            }
        }
    }

    private static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        element.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    private static Dictionary<string, string> Attributes(JsonElement element)
    {
        var attributes = new Dictionary<string, string>();
        foreach (var attribute in Array(element, "attributes"))
        {
            var key = Text(attribute, "key");
            if (attribute.TryGetProperty("value", out var value))
            {
                // AnyValue: one of stringValue, intValue (a string in OTLP JSON), boolValue, doubleValue, ...
                foreach (var typed in value.EnumerateObject())
                {
                    attributes[key] = typed.Value.ValueKind == JsonValueKind.String ? typed.Value.GetString() ?? "" : typed.Value.GetRawText();
                }
            }
        }
        return attributes;
    }
}
