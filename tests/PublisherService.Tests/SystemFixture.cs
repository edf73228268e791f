using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>The whole system (PostgreSQL, Redis, emulator, all services) once per test class, with fast retries.</summary>
public sealed class SystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public static readonly TimeSpan QuotaRetryDelay = TimeSpan.FromSeconds(3);

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Meta__QuotaRetryDelay"] = QuotaRetryDelay.ToString(),
            ["Meta__DefaultRateLimitDelay"] = "00:00:02",
            ["Meta__ContainerPollInterval"] = "00:00:00.100",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>One test's user, with helpers for its channels and posts.</summary>
internal sealed class TestUser(SocialSyncSystem system)
{
    public Guid Id { get; } = Guid.NewGuid();

    public Metadata Auth => TestTokens.ForUser(Id);

    public static string NewPhoneNumberId() => $"1{Random.Shared.NextInt64(10_000_000_000, 99_999_999_999)}";

    public static string NewInstagramId() => $"17841{Random.Shared.NextInt64(100_000_000, 999_999_999)}";

    public Task<Channel> WhatsAppChannelAsync(string account, AmbiguousSendPolicy policy = AmbiguousSendPolicy.Unspecified, params string[] recipients) =>
        ChannelAsync(Platform.Whatsapp, account, new ChannelSettings
        {
            Recipients = { recipients.Length == 0 ? ["+16505551234"] : recipients },
            AmbiguousSendPolicy = policy,
        });

    public Task<Channel> InstagramChannelAsync(string account, InstagramMode mode = InstagramMode.Feed) =>
        ChannelAsync(Platform.Instagram, account, new ChannelSettings { InstagramMode = mode });

    public async Task<Channel> ChannelAsync(Platform platform, string account, ChannelSettings settings, string token = "EAAG-test-token") =>
        await system.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = platform,
            AccountId = account,
            AccessToken = token,
            DisplayName = $"test {account}",
            Settings = settings,
        }, Auth);

    public async Task<ScheduledPost> PostAsync(Channel channel, string text, params (MediaType Type, string Url)[] media)
    {
        var content = new Content { Text = text };
        content.Media.AddRange(media.Select(m => new Media { Type = m.Type, Url = m.Url }));
        return await system.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = content,
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(1)),
        }, Auth);
    }

    public async Task<ScheduledPost> GetAsync(ScheduledPost post) =>
        await system.PostClient.GetPostAsync(new GetPostRequest { Id = post.Id }, Auth);

    public Task<ScheduledPost> UntilAsync(ScheduledPost post, Func<ScheduledPost, bool> done, string what, int seconds = 90) =>
        Polling.UntilAsync(() => GetAsync(post), done, TimeSpan.FromSeconds(seconds), what);

    public Task<ScheduledPost> FinishedAsync(ScheduledPost post) =>
        UntilAsync(post, p => p.Status is PostStatus.Published or PostStatus.Failed or PostStatus.Unconfirmed or PostStatus.Missed,
            $"post {post.Id} to finish");

    public async Task<List<PostRun>> RunsAsync(ScheduledPost post) =>
        (await system.PostClient.ListPostRunsAsync(new ListPostRunsRequest { Id = post.Id, Limit = 100 }, Auth)).Runs.ToList();

    public async Task<Channel> ChannelStateAsync(Channel channel) =>
        await system.ChannelClient.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, Auth);

    public async Task<List<JsonElement>> EffectsAsync(string account, string kind) =>
        (await system.Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/effects?account={account}&kind={kind}"))
            .GetProperty("data").EnumerateArray().ToList();

    public async Task<List<JsonElement>> RequestsAsync(string account, string? operation = null) =>
        (await system.Emulator.Http.GetFromJsonAsync<JsonElement>(
            $"/__emu/requests?account={account}" + (operation is null ? "" : $"&operation={operation}")))
            .GetProperty("data").EnumerateArray().ToList();
}

/// <summary>
/// The whole system with a short lease and fast lease recovery, so a publisher killed mid-attempt is recovered in
/// seconds, and with a token refresher that looks every half second. Its tests restart services, so they share it
/// one at a time (<see cref="ShortLeaseSystem"/>).
/// </summary>
public sealed class ShortLeaseSystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Retry__Lease"] = "00:00:05",
            ["Scheduler__LeaseRecoveryInterval"] = "00:00:01",
            ["Tokens__RefreshInterval"] = "00:00:00.500",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ShortLeaseSystem : ICollectionFixture<ShortLeaseSystemFixture>
{
    public const string Name = "short-lease system";
}
