using System.Net.Http.Json;

namespace SocialSync.Web.Services;

/// <summary>The gateway's settings for the app (<c>/studio/settings</c>, docs/gateway.md), read once per page load.</summary>
public sealed class StudioSettings(HttpClient http)
{
    private Task<Values>? _values;

    /// <summary>The Aspire dashboard's address, or null when the gateway was not told one (no trace links then).</summary>
    public async Task<string?> DashboardUrlAsync()
    {
        var values = await (_values ??= http.GetFromJsonAsync<Values>("studio/settings")!);
        return string.IsNullOrEmpty(values?.DashboardUrl) ? null : values.DashboardUrl;
    }

    private sealed record Values(string? DashboardUrl);
}
