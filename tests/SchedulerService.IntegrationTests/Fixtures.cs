using SocialSync.Testing;
using StackExchange.Redis;

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

/// <summary>Reads the scheduler's Redis keys directly (default key prefix).</summary>
public static class Index
{
    public const string Schedule = "socialsync:schedule";
    public const string CompleteMarker = "socialsync:schedule:complete";

    public static async Task<int> IndexedCountAsync(SocialSyncSystem system, IEnumerable<string> ids)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},abortConnect=false,connectTimeout=2000");
        var db = redis.GetDatabase();
        var scores = await Task.WhenAll(ids.Select(id => db.SortedSetScoreAsync(Schedule, id)));
        return scores.Count(s => s is not null);
    }

    public static async Task<bool> IsCompleteAsync(SocialSyncSystem system)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},abortConnect=false,connectTimeout=2000");
        return await redis.GetDatabase().KeyExistsAsync(CompleteMarker);
    }
}
