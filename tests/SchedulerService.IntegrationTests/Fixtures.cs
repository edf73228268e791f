using SocialSync.Testing;

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>The whole system with one scheduler; retries back off from one second (1, 2, 4 s) without jitter.</summary>
public sealed class OneSchedulerSystem : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Retry__JitterRatio"] = "0",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>The whole system with two scheduler replicas.</summary>
public sealed class TwoSchedulersSystem : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions { SchedulerReplicas = 2 });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class OneSchedulerCollection : ICollectionFixture<OneSchedulerSystem>
{
    public const string Name = "one scheduler";
}

[CollectionDefinition(Name)]
public sealed class TwoSchedulersCollection : ICollectionFixture<TwoSchedulersSystem>
{
    public const string Name = "two schedulers";
}

/// <summary>Reads the scheduler's Redis index directly (default key prefix and shard count).</summary>
public static class Index
{
    public static Task<int> IndexedCountAsync(SocialSyncSystem system, IEnumerable<string> ids) =>
        SchedulerIndex.IndexedCountAsync(system.RedisConnectionString, ids);

    public static Task<bool> IsCompleteAsync(SocialSyncSystem system) => SchedulerIndex.IsCompleteAsync(system.RedisConnectionString);
}
