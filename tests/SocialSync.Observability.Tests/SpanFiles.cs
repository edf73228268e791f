using System.Text.Json;

namespace SocialSync.Observability.Tests;

public sealed record Span(
    string Service, string Source, string Name, string Kind, string TraceId, string SpanId, string ParentSpanId,
    DateTime Start, string Status, IReadOnlyDictionary<string, string> Tags, IReadOnlyList<(string TraceId, string SpanId)> Links)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value : null;

    public override string ToString() => $"{Service}: {Name} [{Kind}] {TraceId}/{SpanId} parent={ParentSpanId}";
}

/// <summary>Reads what each service process exported through Telemetry:SpanDirectory (one JSON line per span).</summary>
public static class SpanFiles
{
    public static string NewDirectory() => Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"socialsync-spans-{Guid.NewGuid():N}")).FullName;

    public static List<Span> Read(string directory)
    {
        var spans = new List<Span>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.jsonl"))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }
                JsonElement json;
                try
                {
                    json = JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException)
                {
                    continue; // a line still being written
                }
                spans.Add(new Span(
                    json.GetProperty("service").GetString()!,
                    json.GetProperty("source").GetString()!,
                    json.GetProperty("name").GetString()!,
                    json.GetProperty("kind").GetString()!,
                    json.GetProperty("traceId").GetString()!,
                    json.GetProperty("spanId").GetString()!,
                    json.GetProperty("parentSpanId").GetString()!,
                    json.GetProperty("start").GetDateTime(),
                    json.GetProperty("status").GetString()!,
                    json.GetProperty("tags").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                    json.GetProperty("links").EnumerateArray()
                        .Select(l => (l.GetProperty("traceId").GetString()!, l.GetProperty("spanId").GetString()!)).ToList()));
            }
        }
        return spans;
    }

    /// <summary>The spans of one trace as an indented tree (for failure messages and docs/observability.md).</summary>
    public static string Tree(IReadOnlyList<Span> spans, string traceId)
    {
        var inTrace = spans.Where(s => s.TraceId == traceId).OrderBy(s => s.Start).ToList();
        var ids = inTrace.Select(s => s.SpanId).ToHashSet();
        var lines = new List<string>();
        void Walk(Span span, int depth)
        {
            var tags = string.Join(" ", span.Tags.Where(t => t.Key.StartsWith("socialsync.", StringComparison.Ordinal)).Select(t => $"{t.Key}={t.Value}"));
            lines.Add($"{new string(' ', depth * 2)}{span.Service}: {span.Name} [{span.Kind}] {tags}{(span.Links.Count > 0 ? " (linked to batch)" : "")}");
            foreach (var child in inTrace.Where(c => c.ParentSpanId == span.SpanId))
            {
                Walk(child, depth + 1);
            }
        }
        foreach (var root in inTrace.Where(s => s.ParentSpanId == "" || !ids.Contains(s.ParentSpanId)))
        {
            Walk(root, 0);
        }
        return string.Join(Environment.NewLine, lines);
    }
}
