using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SocialSync.ServiceDefaults.Telemetry;

/// <summary>
/// /health as JSON: the overall status and each check's status, reason and named data (an alert's name), so a person (or a test) sees why a
/// service is not ready. Exceptions are left out: their messages may name hosts or connection details.
/// </summary>
public static class HealthReportWriter
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("status", report.Status.ToString());
            json.WriteStartObject("checks");
            foreach (var (name, entry) in report.Entries)
            {
                json.WriteStartObject(name);
                json.WriteString("status", entry.Status.ToString());
                if (!string.IsNullOrEmpty(entry.Description))
                {
                    json.WriteString("description", entry.Description);
                }
                if (entry.Data.Count > 0)
                {
                    // Named reasons (an alert's name and what it saw), for a person or a probe to match on.
                    json.WriteStartObject("data");
                    foreach (var (key, value) in entry.Data)
                    {
                        json.WriteString(key, value?.ToString());
                    }
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        }
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }
}
