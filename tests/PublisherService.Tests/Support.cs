using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Testing;
using V1 = SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Tests;

/// <summary>One Graph API emulator process for a test class; each test uses its own account ids.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public EmulatorProcess Emulator { get; private set; } = null!;

    public async Task InitializeAsync() => Emulator = await EmulatorProcess.StartAsync();

    public async Task DisposeAsync() => await Emulator.DisposeAsync();
}

/// <summary>Keeps what the publisher saves mid-attempt, in order, as PostsService would.</summary>
internal sealed class RecordingStateStore : IPlatformStateStore
{
    public ConcurrentQueue<string> Saved { get; } = new();

    public bool Refuse { get; set; }

    public Task<bool> SaveAsync(PublishJob job, string stateJson, CancellationToken cancellationToken)
    {
        if (Refuse)
        {
            return Task.FromResult(false);
        }
        Saved.Enqueue(stateJson);
        return Task.FromResult(true);
    }
}

/// <summary>An InstagramPublisher wired to the emulator, with short polls so tests wait little.</summary>
internal sealed class InstagramHarness : IDisposable
{
    private readonly HttpClient _http = new();

    public InstagramHarness(EmulatorProcess emulator, TimeSpan? processingBudget = null)
    {
        Emulator = emulator;
        Options = Microsoft.Extensions.Options.Options.Create(new MetaOptions
        {
            GraphApiBaseUrl = emulator.BaseAddress,
            RequestTimeout = TimeSpan.FromSeconds(10),
            ContainerPollInterval = TimeSpan.FromMilliseconds(50),
            ContainerProcessingBudget = processingBudget ?? TimeSpan.FromSeconds(20),
            QuotaRetryDelay = TimeSpan.FromMinutes(30),
        });
        Graph = new GraphApiClient(_http, Options, TimeProvider.System, NullLogger<GraphApiClient>.Instance);
        Publisher = new InstagramPublisher(Graph, Store, Options, TimeProvider.System, NullLogger<InstagramPublisher>.Instance);
    }

    public EmulatorProcess Emulator { get; }

    public IOptions<MetaOptions> Options { get; }

    public GraphApiClient Graph { get; }

    public RecordingStateStore Store { get; } = new();

    public InstagramPublisher Publisher { get; }

    public static string NewAccount() => $"17841{Random.Shared.NextInt64(100_000_000, 999_999_999)}";

    public static PublishJob Job(string account, V1.InstagramMode mode, string text, IEnumerable<(V1.MediaType Type, string Url)> media,
        string state = "", bool reconcile = false, string recipient = "")
    {
        var content = new V1.Content { Text = text };
        content.Media.AddRange(media.Select(m => new V1.Media { Type = m.Type, Url = m.Url }));
        var channel = new V1.ChannelAccess
        {
            ChannelId = Guid.NewGuid().ToString(),
            Platform = V1.Platform.Instagram,
            AccountId = account,
            AccessToken = "IGQ-test-token",
            State = V1.ChannelState.Active,
            Settings = new V1.ChannelSettings { InstagramMode = mode, InstagramRecipientId = recipient },
        };
        var post = new V1.ClaimedPost
        {
            PostId = Guid.NewGuid().ToString(),
            Attempt = 1,
            Platform = V1.Platform.Instagram,
            ChannelId = channel.ChannelId,
            Content = content,
            NeedsReconciliation = reconcile,
            PlatformStateJson = state,
        };
        return new PublishJob(post, channel, Guid.NewGuid().ToString());
    }

    /// <summary>One attempt, as PostPublisher makes it: reconcile, then publish what is left.</summary>
    public Task<PlatformResult> PublishAsync(PublishJob job) => Publisher.AttemptAsync(job, CancellationToken.None);

    public async Task<List<JsonElement>> EffectsAsync(string account, string kind) =>
        Items(await Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/effects?account={account}&kind={kind}"));

    public async Task<List<JsonElement>> RequestsAsync(string account, string? operation = null) =>
        Items(await Emulator.Http.GetFromJsonAsync<JsonElement>(
            $"/__emu/requests?account={account}" + (operation is null ? "" : $"&operation={operation}")));

    public async Task<List<JsonElement>> ContainersAsync(string account) =>
        Items(await Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/containers?account={account}"));

    public async Task<string> CreateContainerAsync(string account, object body)
    {
        var created = await Graph.PostAsync($"{account}/media", body, "IGQ-test-token", CancellationToken.None);
        return created.GetProperty("id").GetString()!;
    }

    private static List<JsonElement> Items(JsonElement json) => json.GetProperty("data").EnumerateArray().ToList();

    public void Dispose() => _http.Dispose();
}
