using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Chaos;

public sealed record ChaosResult(ChaosVerdict Verdict, IReadOnlyList<FaultRecord> Faults, string Report, int Approved)
{
    /// <summary>Every fault applied, and nothing lost, duplicated, early or published after a cancel.</summary>
    public bool Passed => Verdict.Passed && Faults.All(f => f.Error is null);
}

/// <summary>
/// The chaos run: the whole system as real processes, users and channels, a steady stream and bursts of posts,
/// moves and cancels just before due times, every fault at seeded moments, then the count of every post.
/// </summary>
public static class ChaosRun
{
    /// <summary>Short back-offs and leases, so retries and recoveries finish inside the run.</summary>
    public static IReadOnlyDictionary<string, string?> SystemSettings { get; } = new Dictionary<string, string?>
    {
        ["Retry__BaseDelay"] = "00:00:02",
        ["Retry__Lease"] = "00:00:15",
        ["Meta__RequestTimeout"] = "00:00:08",
        ["Meta__DefaultRateLimitDelay"] = "00:00:03",
        ["Meta__ContainerPollInterval"] = "00:00:00.500",
    };

    public const int PostsReplicas = 2;
    public const int PublisherReplicas = 2;
    public const int SchedulerReplicas = 3;

    public static async Task<ChaosResult> RunAsync(ChaosOptions options, TextWriter output, string command, CancellationToken cancellationToken = default)
    {
        var log = TextWriter.Synchronized(output);
        var clock = Stopwatch.StartNew();
        var runTag = new Random(options.Seed).Next(0x100000, 0xFFFFFF).ToString("x6", CultureInfo.InvariantCulture);
        log.WriteLine($"chaos: {options.Posts} posts, seed {options.Seed}, window {options.Window.TotalSeconds:0} s, {options.FaultRounds} round(s) of every fault, Redis {(options.RedisCluster ? "Cluster" : "single")}; starting the system");

        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions
        {
            DurablePostgres = true,
            // A synchronous standby and PostsService connecting to whichever server is the primary: the failover drill.
            PostgresStandby = true,
            // Replicas of every service, as a deployment past one machine runs them: nothing that must be shared may
            // live in one process's memory (issue 18).
            PostsReplicas = PostsReplicas,
            PublisherReplicas = PublisherReplicas,
            SchedulerReplicas = SchedulerReplicas,
            RedisCluster = options.RedisCluster,
            // Meta's status webhooks arrive, so a WhatsApp send whose answer was lost is settled by its status
            // (docs/webhooks.md); no automatic resend window, so nothing is sent twice on a guess.
            MetaWebhooks = true,
            Settings = SystemSettings,
        });
        var startup = clock.Elapsed;
        log.WriteLine($"system up in {startup.TotalSeconds:0.0} s");

        var workload = new Workload(options, system, runTag, log);
        var (platforms, notes) = await ProbePlatformsAsync(options, system, workload, log, cancellationToken);
        await workload.CreateChannelsAsync(platforms);

        var upFront = (int)(options.Posts * (1 - options.LiveCreateShare * (1 - options.BurstShare)));
        var windowStart = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(15.0 * upFront);
        workload.Plan(windowStart);
        var injector = new FaultInjector(options, system, workload, log);
        injector.Plan(windowStart);

        var creating = Stopwatch.StartNew();
        await workload.CreateUpFrontAsync(cancellationToken);
        log.WriteLine($"created {workload.Posts.Count(p => !p.Live)} posts up front in {creating.Elapsed.TotalSeconds:0.0} s ({workload.Approved} of them approved by a teammate); the window opens in {(windowStart - DateTimeOffset.UtcNow).TotalSeconds:0.0} s");

        await Task.WhenAll(
            workload.CreateLiveAsync(cancellationToken),
            workload.MutateAsync(cancellationToken),
            injector.RunAsync(cancellationToken));
        var windowEnd = windowStart + options.Window;
        await Workload.DelayUntilAsync(windowEnd, cancellationToken);
        log.WriteLine("window over; waiting for every post to reach a final state");

        var converged = await WaitForConvergenceAsync(system, injector, runTag, options.ConvergenceBound, log, cancellationToken);
        var (posts, effects) = await ChaosVerdict.CollectAsync(system, runTag, cancellationToken);
        var verdict = ChaosVerdict.Judge(posts, effects);
        await verdict.LoadRunsAsync(system.PostsConnectionString, ChaosReport.ListedPerProblem, cancellationToken);
        var report = ChaosReport.Write(new ChaosReportInput(options, command, runTag, clock.Elapsed, startup, windowStart, converged,
            platforms, notes, workload, injector.Faults, verdict));

        log.WriteLine();
        log.WriteLine(report);
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.ReportPath));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        await File.WriteAllTextAsync(options.ReportPath, report, cancellationToken);
        log.WriteLine($"report written to {Path.GetFullPath(options.ReportPath)}");
        if (!verdict.Passed || options.LogDirectory is not null)
        {
            KeepServiceOutput(system, options.LogDirectory ?? Path.Combine(Path.GetTempPath(), $"chaos-logs-{runTag}"), log);
        }
        return new ChaosResult(verdict, injector.Faults, report, workload.Approved);
    }

    /// <summary>
    /// One post per platform through the quiet system: proves the pipeline works before anything breaks, and finds a
    /// platform the publisher does not handle yet (left out, and said so in the report).
    /// </summary>
    private static async Task<(List<Platform> Platforms, List<string> Notes)> ProbePlatformsAsync(
        ChaosOptions options, SocialSyncSystem system, Workload workload, TextWriter log, CancellationToken cancellationToken)
    {
        var platforms = new List<Platform>();
        var notes = new List<string>();
        var user = Guid.NewGuid();
        var auth = TestTokens.ForUser(user);
        var probes = new List<(Platform Platform, string PostId)>();
        foreach (var name in options.Platforms)
        {
            var platform = name.ToLowerInvariant() switch
            {
                "whatsapp" => Platform.Whatsapp,
                "instagram" => Platform.Instagram,
                _ => throw new ArgumentException($"Unknown platform '{name}' (whatsapp or instagram)."),
            };
            var account = platform == Platform.Whatsapp ? "1999000000001" : "17841499900000001";
            var channel = await workload.CallAsync(ct => system.ChannelClient.CreateChannelAsync(new CreateChannelRequest
            {
                Platform = platform,
                AccountId = account,
                AccessToken = "EAAprobe",
                Settings = platform == Platform.Whatsapp
                    ? new ChannelSettings { Recipients = { "+16505550000" } }
                    : new ChannelSettings { InstagramMode = InstagramMode.Feed },
            }, auth, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync, DateTimeOffset.UtcNow.AddSeconds(60), cancellationToken);
            var content = new Content { Text = $"probe {name}" };
            if (platform == Platform.Instagram)
            {
                content.Media.Add(new Media { Type = MediaType.Image, Url = "https://cdn.example.com/chaos/probe.jpg" });
            }
            var post = await workload.CallAsync(ct => system.PostClient.CreatePostAsync(new CreatePostRequest
            {
                ChannelId = channel.Id,
                Content = content,
                PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(1)),
            }, auth, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync, DateTimeOffset.UtcNow.AddSeconds(60), cancellationToken);
            probes.Add((platform, post.Id));
        }

        foreach (var (platform, postId) in probes)
        {
            var post = await Polling.UntilAsync(
                () => system.PostClient.GetPostAsync(new GetPostRequest { Id = postId }, auth, DateTime.UtcNow.AddSeconds(10)).ResponseAsync,
                p => p.Status is not (PostStatus.Queued or PostStatus.Publishing), TimeSpan.FromSeconds(90), $"the {platform} probe post");
            if (post.Status == PostStatus.Published)
            {
                platforms.Add(platform);
            }
            else if (post.ErrorMessage.Contains("No publisher handles", StringComparison.Ordinal))
            {
                notes.Add($"{platform} left out: PublisherService does not publish to it yet ({post.ErrorMessage}).");
            }
            else
            {
                throw new InvalidOperationException($"The {platform} probe post ended {post.Status}: {post.ErrorMessage}");
            }
        }
        log.WriteLine($"probe: publishing works for {string.Join(", ", platforms)}{(notes.Count > 0 ? "; " + string.Join(" ", notes) : "")}");
        return platforms.Count > 0 ? (platforms, notes) : throw new InvalidOperationException("No platform publishes.");
    }

    private static async Task<bool> WaitForConvergenceAsync(SocialSyncSystem system, FaultInjector injector, string runTag, TimeSpan bound,
        TextWriter log, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + bound;
        var lastReport = DateTimeOffset.MinValue;
        while (true)
        {
            try
            {
                await injector.ReconnectFlaggedChannelsAsync(cancellationToken);
                var posts = await ChaosVerdict.LoadPostsAsync(system.PostsConnectionString, runTag, cancellationToken);
                var open = posts.Where(p => !ChaosVerdict.FinalStatuses.Contains(p.Status)).ToList();
                if (open.Count == 0)
                {
                    return true;
                }
                if (DateTimeOffset.UtcNow > deadline)
                {
                    log.WriteLine($"not converged within {bound.TotalSeconds:0} s: {open.Count} posts still open");
                    return false;
                }
                if (DateTimeOffset.UtcNow - lastReport > TimeSpan.FromSeconds(10))
                {
                    lastReport = DateTimeOffset.UtcNow;
                    log.WriteLine($"  {open.Count} posts not final yet ({string.Join(", ", open.GroupBy(p => p.Status).Select(g => $"{g.Key} {g.Count()}"))})");
                }
            }
            catch (NpgsqlException ex)
            {
                log.WriteLine($"  convergence check failed: {ex.Message}");
            }
            catch (RpcException ex)
            {
                log.WriteLine($"  reconnecting a channel failed: {ex.Status.Detail}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    private static void KeepServiceOutput(SocialSyncSystem system, string directory, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        foreach (var service in system.Schedulers.Concat(system.PostsReplicas).Concat(system.Publishers))
        {
            File.WriteAllText(Path.Combine(directory, $"{service.Name}.log"), service.RecentOutput);
        }
        log.WriteLine($"last service output kept in {directory}");
    }
}
