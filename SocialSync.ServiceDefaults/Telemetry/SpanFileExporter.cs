using System.Diagnostics;
using System.Text.Json;
using OpenTelemetry;

namespace SocialSync.ServiceDefaults.Telemetry;

/// <summary>
/// Writes each finished span as one JSON line to a file: how tests (and a person without a collector) see the
/// spans of services running as separate processes. Enabled only by configuration (Telemetry:SpanDirectory).
/// </summary>
public sealed class SpanFileExporter : BaseExporter<Activity>
{
    private readonly string _service;
    private readonly StreamWriter _writer;
    private readonly Lock _lock = new();

    public SpanFileExporter(string directory, string service)
    {
        Directory.CreateDirectory(directory);
        _service = service;
        var path = Path.Combine(directory, $"{service}-{Environment.ProcessId}.jsonl");
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        using var buffer = new MemoryStream();
        foreach (var activity in batch)
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                Write(json, activity);
            }
            buffer.WriteByte((byte)'\n');
        }
        lock (_lock)
        {
            _writer.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        return ExportResult.Success;
    }

    private void Write(Utf8JsonWriter json, Activity activity)
    {
        json.WriteStartObject();
        json.WriteString("service", _service);
        json.WriteString("source", activity.Source.Name);
        json.WriteString("name", activity.DisplayName);
        json.WriteString("kind", activity.Kind.ToString());
        json.WriteString("traceId", activity.TraceId.ToHexString());
        json.WriteString("spanId", activity.SpanId.ToHexString());
        json.WriteString("parentSpanId", activity.ParentSpanId == default ? "" : activity.ParentSpanId.ToHexString());
        json.WriteString("start", activity.StartTimeUtc);
        json.WriteNumber("durationMs", activity.Duration.TotalMilliseconds);
        json.WriteString("status", activity.Status.ToString());
        json.WriteStartObject("tags");
        foreach (var tag in activity.TagObjects)
        {
            json.WriteString(tag.Key, Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        json.WriteEndObject();
        json.WriteStartArray("links");
        foreach (var link in activity.Links)
        {
            json.WriteStartObject();
            json.WriteString("traceId", link.Context.TraceId.ToHexString());
            json.WriteString("spanId", link.Context.SpanId.ToHexString());
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writer.Dispose();
        }
        base.Dispose(disposing);
    }
}
