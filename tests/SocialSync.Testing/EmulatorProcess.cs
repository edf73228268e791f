using System.Net.Http.Json;
using System.Text.Json;

namespace SocialSync.Testing;

/// <summary>The Graph API emulator as a real HTTP server process, and a client for its control API.</summary>
public sealed class EmulatorProcess : IAsyncDisposable
{
    private readonly ManagedProcess _process;

    private EmulatorProcess(ManagedProcess process, int port)
    {
        _process = process;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Media = new EmulatorMedia(Http);
    }

    public Uri BaseAddress { get; }

    /// <summary>The emulator's process; null once it has exited.</summary>
    public int? ProcessId => _process.HasExited ? null : _process.Id;

    public HttpClient Http { get; }

    /// <summary>Media files the emulator serves to the media checks, as a CDN would.</summary>
    public EmulatorMedia Media { get; }

    public static async Task<EmulatorProcess> StartAsync()
    {
        var port = Ports.Free();
        var process = ManagedProcess.Start("graph-api-emulator", "dotnet",
            [RepositoryPaths.ServiceAssembly(Path.Combine("tests", "GraphApiEmulator")), "--urls", $"http://127.0.0.1:{port}"],
            new Dictionary<string, string?> { ["Logging__LogLevel__Default"] = "Warning" });
        await Ports.WaitUntilListeningAsync(port, TimeSpan.FromSeconds(60), () => !process.HasExited);
        return new EmulatorProcess(process, port);
    }

    /// <summary>Side effects (messages sent, media published), optionally for one account.</summary>
    public async Task<IReadOnlyList<JsonElement>> EffectsAsync(string? account = null)
    {
        var path = account is null ? "/__emu/effects" : $"/__emu/effects?account={Uri.EscapeDataString(account)}";
        var json = await Http.GetFromJsonAsync<JsonElement>(path);
        return Items(json);
    }

    public async Task<IReadOnlyList<JsonElement>> RequestsAsync(string? account = null)
    {
        var path = account is null ? "/__emu/requests" : $"/__emu/requests?account={Uri.EscapeDataString(account)}";
        var json = await Http.GetFromJsonAsync<JsonElement>(path);
        return Items(json);
    }

    public async Task<string> AddFaultAsync(object fault)
    {
        using var response = await Http.PostAsJsonAsync("/__emu/faults", fault);
        response.EnsureSuccessStatusCode();
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return json.TryGetProperty("id", out var id) ? id.ToString() : "";
    }

    public async Task ClearFaultsAsync() => (await Http.DeleteAsync("/__emu/faults")).EnsureSuccessStatusCode();

    public async Task ConfigureAccountAsync(string account, object settings) =>
        (await Http.PutAsJsonAsync($"/__emu/accounts/{Uri.EscapeDataString(account)}", settings)).EnsureSuccessStatusCode();

    /// <summary>Sends status webhooks after every WhatsApp send to <paramref name="callback"/>, signed with <paramref name="appSecret"/>.</summary>
    public async Task ConfigureWebhooksAsync(Uri callback, string appSecret) =>
        (await Http.PutAsJsonAsync("/__emu/webhooks", new { callbackUrl = callback.ToString(), appSecret })).EnsureSuccessStatusCode();

    /// <summary>Changes the status webhooks of matching messages (late, duplicated, out of order, never: tests/GraphApiEmulator/README.md).</summary>
    public async Task AddWebhookRuleAsync(object rule) =>
        (await Http.PostAsJsonAsync("/__emu/webhooks/rules", rule)).EnsureSuccessStatusCode();

    /// <summary>Every status webhook delivery attempt (body, signature, callback's answer), optionally of one message.</summary>
    public async Task<IReadOnlyList<JsonElement>> WebhookDeliveriesAsync(string? wamid = null)
    {
        var path = wamid is null ? "/__emu/webhooks/deliveries" : $"/__emu/webhooks/deliveries?wamid={Uri.EscapeDataString(wamid)}";
        return Items(await Http.GetFromJsonAsync<JsonElement>(path));
    }

    private static IReadOnlyList<JsonElement> Items(JsonElement json) => json.ValueKind switch
    {
        JsonValueKind.Array => json.EnumerateArray().ToList(),
        JsonValueKind.Object when json.TryGetProperty("items", out var items) => items.EnumerateArray().ToList(),
        JsonValueKind.Object when json.TryGetProperty("data", out var data) => data.EnumerateArray().ToList(),
        _ => [],
    };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
