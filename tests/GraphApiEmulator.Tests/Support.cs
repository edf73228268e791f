using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Tests;

/// <summary>One emulator per test class, on a real loopback port. Tests isolate themselves with fresh account ids.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public EmulatorHost Host { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await EmulatorApp.StartAsync();
        Http = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>Fresh account / phone-number / recipient ids so tests never see each other's data.</summary>
public static class Ids
{
    private static long next = Random.Shared.Next(1_000_000);

    public static string Next() => (17_841_400_000_000_000L + Interlocked.Increment(ref next)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Phone() => "1555" + (Interlocked.Increment(ref next) % 10_000_000).ToString("D7", System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record Reply(HttpStatusCode Status, JsonNode? Json, HttpResponseHeaders Headers, string Text)
{
    public JsonNode? Error => Json?["error"];

    public int? Code => Error?["code"]?.GetValue<int>();

    public int? Subcode => Error?["error_subcode"]?.GetValue<int>();

    public string Header(string name) => Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";
}

public static class GraphHttp
{
    public const string Token = "EAAG-test-token";

    public static Task<Reply> PostJsonAsync(this HttpClient http, string path, object body, string? token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        return SendAsync(http, request, token);
    }

    public static Task<Reply> PostFormAsync(this HttpClient http, string path, IDictionary<string, string> form, string? token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        return SendAsync(http, request, token);
    }

    public static Task<Reply> GetGraphAsync(this HttpClient http, string path, string? token = Token) =>
        SendAsync(http, new HttpRequestMessage(HttpMethod.Get, path), token);

    public static async Task<Reply> SendAsync(HttpClient http, HttpRequestMessage request, string? token)
    {
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0 && text[0] is '{' or '[')
        {
            json = JsonNode.Parse(text);
        }

        return new Reply(response.StatusCode, json, response.Headers, text);
    }

    /// <summary>Calls the control API and returns its JSON (asserting 2xx).</summary>
    public static async Task<JsonNode> ControlAsync(this HttpClient http, HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path} → {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    public static Task<JsonNode> PutAccountAsync(this HttpClient http, string account, object settings) =>
        http.ControlAsync(HttpMethod.Put, $"/__emu/accounts/{account}", settings);

    public static Task<JsonNode> AddFaultAsync(this HttpClient http, object fault) =>
        http.ControlAsync(HttpMethod.Post, "/__emu/faults", fault);

    public static async Task<JsonArray> EffectsAsync(this HttpClient http, string account) =>
        (await http.ControlAsync(HttpMethod.Get, $"/__emu/effects?account={account}"))["data"]!.AsArray();

    public static async Task<JsonArray> JournalAsync(this HttpClient http, string account) =>
        (await http.ControlAsync(HttpMethod.Get, $"/__emu/requests?account={account}"))["data"]!.AsArray();

    public static Task<JsonNode> AdvanceClockAsync(this HttpClient http, double seconds) =>
        http.ControlAsync(HttpMethod.Post, "/__emu/clock", new { advanceSeconds = seconds });

    public static object WhatsAppText(string to, string body) => new
    {
        messaging_product = "whatsapp",
        recipient_type = "individual",
        to,
        type = "text",
        text = new { preview_url = false, body },
    };

    /// <summary>Creates an image container and returns its id.</summary>
    public static async Task<string> CreateImageContainerAsync(this HttpClient http, string account, string? caption = "hello", bool carouselItem = false)
    {
        var form = new Dictionary<string, string> { ["image_url"] = "https://cdn.example.com/a.jpg" };
        if (caption is not null)
        {
            form["caption"] = caption;
        }

        if (carouselItem)
        {
            form["is_carousel_item"] = "true";
        }

        var reply = await http.PostFormAsync($"/v23.0/{account}/media", form);
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return reply.Json!["id"]!.GetValue<string>();
    }

    public static Task<Reply> PublishAsync(this HttpClient http, string account, string creationId) =>
        http.PostFormAsync($"/v23.0/{account}/media_publish", new Dictionary<string, string> { ["creation_id"] = creationId });

    public static async Task<string> StatusCodeAsync(this HttpClient http, string containerId)
    {
        var reply = await http.GetGraphAsync($"/v23.0/{containerId}?fields=status_code,status");
        Assert.Equal(HttpStatusCode.OK, reply.Status);
        return reply.Json!["status_code"]!.GetValue<string>();
    }

    /// <summary>Polls until the condition holds (bounded), for state recorded just after a connection is dropped.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(5);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value) || watch.Elapsed > limit)
            {
                return value;
            }

            await Task.Delay(25);
        }
    }
}
