using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;
using SocialSync.ServiceDefaults;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.Observability.Tests;

/// <summary>
/// The Redis tracing the scheduler runs with (Aspire's AddRedisClient on top of the service defaults, the AppHost's
/// sampler) against a real Redis. That instrumentation keeps a profiling session per parent span until the span has
/// stopped and its next flush (every 10 s) has run: a parent that never stops is held for ever, with its commands.
/// The scheduler opens quiet scopes around Redis reads several times for every post it dispatches, so each must end.
/// </summary>
[Collection(InProcessTracing.Name)]
public sealed class QuietRedisMemoryTests
{
    private const int Polls = 20_000;

    /// <summary>Longer than the instrumentation's flush interval (10 s): every stopped parent has been let go.</summary>
    private static readonly TimeSpan Flushed = TimeSpan.FromSeconds(12);

    [Fact]
    public async Task Redis_commands_in_quiet_scopes_leave_nothing_behind_once_the_tracing_has_flushed()
    {
        await using var redis = await RedisServer.StartAsync();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        foreach (var (name, value) in AppHostTelemetry.Environment)
        {
            builder.Configuration[name] = value;
        }
        builder.Configuration["ConnectionStrings:redis"] = redis.ConnectionString;
        builder.AddServiceDefaults();
        builder.AddRedisClient("redis");
        using var host = builder.Build();
        host.Services.GetRequiredService<TracerProvider>();
        var database = host.Services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();

        // What the scheduler's loops do while the index is idle: a read in a quiet scope, again and again.
        async Task PollAsync(int times)
        {
            for (var i = 0; i < times; i++)
            {
                using var quiet = SocialSyncTelemetry.Quiet();
                await database.KeyExistsAsync(SchedulerIndex.CompleteMarker(0));
            }
        }

        await PollAsync(1000);
        await Task.Delay(Flushed);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await PollAsync(Polls);
        await Task.Delay(Flushed);
        var after = GC.GetTotalMemory(forceFullCollection: true);

        // Held for ever, each poll keeps its parent span and profiling session: ~470 bytes, ~9 MB in all.
        var grownPerPoll = (after - before) / (double)Polls;
        Assert.True(grownPerPoll < 150, $"the managed heap grew {(after - before) / 1024} KiB over {Polls} quiet Redis polls ({grownPerPoll:F0} bytes each)");
    }
}
