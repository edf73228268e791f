using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SocialSync.Testing;

namespace SocialSync.Benchmarks;

/// <summary>BullMQ's burst result: the yardstick the SocialSync burst is held to, measured in the same run.</summary>
public sealed record BullMqBurstResult(string BullmqVersion, int Concurrency, int Jobs, double Seconds, BullMqLateness LatenessMs, long CompletedInRedis);

public sealed record BullMqLateness(double P50, double P99, double Max);

/// <summary>
/// Runs tests/SocialSync.Benchmarks/bullmq/burst.mjs (npm bullmq, pinned in its package-lock.json) against the
/// benchmark's own redis-server, in a database SocialSync does not use, with the same warm-up rounds and burst size.
/// </summary>
public static class BullMqBurst
{
    /// <summary>SocialSync's scheduler keeps its index in database 0.</summary>
    public const int Database = 1;

    /// <summary>Jobs processed at once by the one BullMQ worker.</summary>
    public const int Concurrency = 100;

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static string ProjectDirectory => Path.Combine(RepositoryPaths.Root, "tests", "SocialSync.Benchmarks", "bullmq");

    /// <summary>Fails before the run, not after many minutes of it, when node or the npm packages are missing.</summary>
    public static void EnsureInstalled()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, "node"))))
        {
            throw new InvalidOperationException("node is not on PATH: install nodejs and npm (./build.sh bench does).");
        }
        if (!Directory.Exists(Path.Combine(ProjectDirectory, "node_modules", "bullmq")))
        {
            throw new InvalidOperationException($"BullMQ is not installed: run `npm ci` in {ProjectDirectory} (./build.sh bench does).");
        }
    }

    public static async Task<BullMqBurstResult> RunAsync(RedisServer redis, BenchmarkOptions options, TextWriter log)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ProjectDirectory,
        };
        foreach (var argument in new[]
        {
            "burst.mjs", "--port", Invariant(redis.Port), "--db", Invariant(Database), "--jobs", Invariant(options.BurstPosts),
            "--concurrency", Invariant(Concurrency), "--warmup-rounds", Invariant(BenchmarkRun.WarmupRounds),
            // A SocialSync warm-up round creates WarmupPosts posts one by one and as many again in batches.
            "--warmup-jobs", Invariant(2 * options.WarmupPosts),
        })
        {
            info.ArgumentList.Add(argument);
        }
        using var node = Process.Start(info) ?? throw new InvalidOperationException("node did not start");
        var stderrTail = new Queue<string>();
        node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            log.WriteLine(e.Data);
            lock (stderrTail)
            {
                stderrTail.Enqueue(e.Data);
                if (stderrTail.Count > 40)
                {
                    stderrTail.Dequeue();
                }
            }
        };
        node.BeginErrorReadLine();
        var stdout = node.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await node.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill(entireProcessTree: true);
            await node.WaitForExitAsync();
            throw new TimeoutException($"The BullMQ burst did not finish within {Timeout.TotalMinutes} minutes; it was killed.");
        }
        // The exit is seen before the last stderr lines are delivered; this waits for them.
        node.WaitForExit();
        var output = (await stdout).Trim();
        if (node.ExitCode != 0 || output.Length == 0)
        {
            string tail;
            lock (stderrTail)
            {
                tail = string.Join(Environment.NewLine, stderrTail);
            }
            throw new InvalidOperationException($"The BullMQ burst failed (exit code {node.ExitCode}):{Environment.NewLine}{tail}");
        }
        var lastLine = output.Split('\n')[^1];
        return JsonSerializer.Deserialize<BullMqBurstResult>(lastLine, new JsonSerializerOptions(JsonSerializerDefaults.Web))
            ?? throw new InvalidOperationException("The BullMQ burst printed no result: " + output);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
