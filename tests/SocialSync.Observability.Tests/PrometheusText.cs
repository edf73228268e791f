using System.Globalization;
using SocialSync.Testing;

namespace SocialSync.Observability.Tests;

/// <summary>
/// A scrape of a service's /metrics (Telemetry:PrometheusEndpoint), read the way Prometheus reads it: one sample a
/// line, <c>name{label="value",...} number</c>.
/// </summary>
public sealed class PrometheusText(string text)
{
    public string Text => text;

    public static async Task<PrometheusText> ScrapeAsync(ServiceProcess service)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return new PrometheusText(await http.GetStringAsync(new Uri(service.HttpAddress, "/metrics")));
    }

    /// <summary>The sum of every sample of <paramref name="name"/> whose labels include each of <paramref name="labels"/>.</summary>
    public double Sum(string name, params (string Label, string Value)[] labels) =>
        Samples(name).Where(s => labels.All(l => s.Labels.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal))).Sum(s => s.Value);

    /// <summary>A histogram's cumulative bucket count at upper bound <paramref name="le"/> (however the exporter writes the number).</summary>
    public double Bucket(string histogram, double le) =>
        Samples(histogram + "_bucket")
            .Where(s => LabelValue(s.Labels, "le") is { } bound && bound != "+Inf" && double.Parse(bound, CultureInfo.InvariantCulture) == le)
            .Sum(s => s.Value);

    private static string? LabelValue(string labels, string label)
    {
        var start = labels.IndexOf($"{label}=\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }
        start += label.Length + 2;
        return labels[start..labels.IndexOf('"', start)];
    }

    private IEnumerable<(string Labels, double Value)> Samples(string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != '{' && rest[0] != ' '))
            {
                continue; // another metric whose name starts with this one
            }
            var labelsEnd = rest[0] == '{' ? rest.IndexOf('}', StringComparison.Ordinal) + 1 : 0;
            var fields = rest[labelsEnd..].Trim().Split(' ');
            yield return (rest[..labelsEnd], double.Parse(fields[0], CultureInfo.InvariantCulture));
        }
    }
}
