using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace SocialSync.Testing;

/// <summary>
/// The Graph API emulator's media files (<c>/__emu/media/{name}</c>): a test puts the bytes it generated
/// (<see cref="MediaFixtures"/>) with a Content-Type and gets the URL a post uses; putting again changes what the URL
/// serves (a new ETag). Works with the emulator as a process (<see cref="EmulatorProcess.Media"/>) or in-process.
/// </summary>
public sealed class EmulatorMedia(HttpClient emulator)
{
    /// <summary>Puts (or replaces) <paramref name="name"/> and returns its URL.</summary>
    public async Task<string> PutAsync(string name, byte[] bytes, string contentType)
    {
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await emulator.PutAsync($"/__emu/media/{Uri.EscapeDataString(name)}", body);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("url").GetString()!;
    }

    /// <summary>The URL <paramref name="name"/> is (or would be) served at.</summary>
    public string Url(string name) => new Uri(emulator.BaseAddress!, $"/__emu/media/{Uri.EscapeDataString(name)}").AbsoluteUri;

    /// <summary>Every GET of <paramref name="name"/>: status, range, if_none_match, sent_authorization, sent_cookie.</summary>
    public async Task<IReadOnlyList<JsonElement>> FetchesAsync(string name)
    {
        var json = await emulator.GetFromJsonAsync<JsonElement>($"/__emu/media/{Uri.EscapeDataString(name)}/fetches");
        return [.. json.GetProperty("data").EnumerateArray()];
    }
}
