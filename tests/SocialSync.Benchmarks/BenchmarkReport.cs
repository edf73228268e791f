using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SocialSync.Benchmarks;

/// <summary>What the sampled processes and the whole machine used during one phase of <paramref name="ElapsedSeconds"/>.</summary>
public sealed record PhaseUsage(IReadOnlyList<ProcessUsage> Processes, double MachineBusySeconds, double ElapsedSeconds)
{
    /// <summary>All the cores' time over the phase: what the machine could have spent.</summary>
    public double CoreSeconds => ElapsedSeconds * Environment.ProcessorCount;

    public double BusyShare => CoreSeconds == 0 ? 0 : MachineBusySeconds / CoreSeconds;
}

/// <summary>Every figure of a run, written as bench/report.md with a PNG of the lateness distributions.</summary>
public sealed class BenchmarkReport(BenchmarkOptions options)
{
    public double CreateRate { get; set; }
    public double BatchCreateRate { get; set; }
    public double RedisBytesPerPost { get; set; }
    public double BurstSeconds { get; set; }
    public List<double> BurstLateness { get; set; } = [];
    public int BurstReceived { get; set; }
    public int BurstDistinct { get; set; }
    public List<double> TrickleLateness { get; set; } = [];
    public int TrickleReceived { get; set; }
    public int TrickleDistinct { get; set; }
    /// <summary>What each process used during the unary creates.</summary>
    public PhaseUsage? CreateUsage { get; set; }
    /// <summary>What each process used during the burst.</summary>
    public PhaseUsage? BurstUsage { get; set; }
    /// <summary>pgbench's rate just before and just after the unary create phase: the rate the creates are held to is their mean.</summary>
    public (double Before, double After) PostgresInsertRates { get; set; }
    public double PostgresInsertRate => (PostgresInsertRates.Before + PostgresInsertRates.After) / 2;
    public const int RawInsertSeconds = 10;
    public double RedisZaddRate { get; set; }
    public double EmulatorRate { get; set; }
    public BullMqBurstResult? BullMq { get; set; }

    public async Task<string> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var chart = Path.Combine(directory, "lateness.png");
        DrawLatenessChart(chart);
        var path = Path.Combine(directory, "report.md");
        await File.WriteAllTextAsync(path, Markdown());
        return path;
    }

    private string Markdown()
    {
        var burst = Distribution.Of(BurstLateness);
        var trickle = Distribution.Of(TrickleLateness);
        var burstRate = options.BurstPosts / BurstSeconds;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# SocialSync benchmark");
        sb.AppendLine();
        sb.AppendLine(inv, $"- when: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; commit `{Git("rev-parse --short HEAD")}`");
        sb.AppendLine(inv, $"- machine: {Environment.ProcessorCount} cores, {MemoryGiB():F1} GiB memory, {Environment.OSVersion}, .NET {Environment.Version}");
        sb.AppendLine(inv, $"- system: Release builds as separate processes, PostgreSQL with fsync on, one scheduler, emulator answering at once");
        sb.AppendLine(inv, $"- warm-up before measuring: {BenchmarkRun.WarmupRounds} rounds of {options.WarmupPosts} unary + {options.WarmupPosts} batched creates, each round published (JIT tiering done, as in a long-running service)");
        sb.AppendLine(inv, $"- command: `./build.sh bench` (options: {options})");
        sb.AppendLine();
        sb.AppendLine("| figure | value | target | met |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine(inv, $"| create, unary gRPC, {options.CreateConcurrency} concurrent | {CreateRate:F0} posts/s | ≥ 0.5 × INSERT rate ({0.5 * PostgresInsertRate:F0}/s) | {Met(CreateRate >= 0.5 * PostgresInsertRate)} |");
        sb.AppendLine(inv, $"| create, BatchCreatePosts of 100, 8 concurrent | {BatchCreateRate:F0} posts/s | well above the INSERT rate ({PostgresInsertRate:F0}/s) | {Met(BatchCreateRate > PostgresInsertRate)} |");
        sb.AppendLine(inv, $"| burst of {options.BurstPosts}: due instant → last published and persisted | {BurstSeconds:F2} s | ≤ 1.75 s | {Met(BurstSeconds <= 1.75)} |");
        sb.AppendLine(inv, $"| burst lateness p50 / p99 / max | {burst.P50:F0} / {burst.P99:F0} / {burst.Max:F0} ms | | |");
        sb.AppendLine(inv, $"| burst: messages received / distinct posts | {BurstReceived} / {BurstDistinct} | {options.BurstPosts} / {options.BurstPosts} | {Met(BurstReceived == options.BurstPosts && BurstDistinct == options.BurstPosts)} |");
        sb.AppendLine(inv, $"| trickle {options.TrickleRate}/s for {options.TrickleSeconds} s, lateness p50 / p99 / max | {trickle.P50:F0} / {trickle.P99:F0} / {trickle.Max:F0} ms | p99 ≤ 100 ms | {Met(trickle.P99 <= 100)} |");
        sb.AppendLine(inv, $"| trickle: messages received / distinct posts | {TrickleReceived} / {TrickleDistinct} | {options.TrickleRate * options.TrickleSeconds} | {Met(TrickleReceived == options.TrickleRate * options.TrickleSeconds && TrickleDistinct == TrickleReceived)} |");
        foreach (var (name, rss, cpu) in BurstUsage?.Processes ?? [])
        {
            if (rss is { } peak)
            {
                sb.AppendLine(inv, $"| {name}: peak RSS / CPU during the burst | {peak:F0} MB / {cpu:F1} s | ≤ 200 MB | {Met(peak <= 200)} |");
            }
            else
            {
                sb.AppendLine(inv, $"| {name}: CPU during the burst | {cpu:F1} s | | |");
            }
        }
        if (BurstUsage is { } burstUsage)
        {
            sb.AppendLine(inv, $"| the machine: CPU busy during the burst, of all its cores' time | {burstUsage.MachineBusySeconds:F1} s of {burstUsage.CoreSeconds:F1} s ({burstUsage.BusyShare:P0}) | | |");
        }
        if (CreateUsage is { } createUsage)
        {
            var perCreate = string.Join(", ", createUsage.Processes.Select(p => $"{p.Name} {(1000 * p.CpuSeconds / options.CreatePosts).ToString("F3", inv)}"));
            sb.AppendLine(inv, $"| unary creates: CPU per create, by process (ms) | {perCreate} | | |");
            sb.AppendLine(inv, $"| the machine: CPU busy during the unary creates, of all its cores' time | {createUsage.MachineBusySeconds:F1} s of {createUsage.CoreSeconds:F1} s ({createUsage.BusyShare:P0}); {1000 * createUsage.MachineBusySeconds / options.CreatePosts:F3} ms a create | | |");
        }
        sb.AppendLine(inv, $"| Redis memory per indexed post | {RedisBytesPerPost:F0} bytes | | |");
        sb.AppendLine(inv, $"| raw PostgreSQL single-row INSERT commits (pgbench, {options.CreateConcurrency} clients, {RawInsertSeconds} s just before and just after the unary creates): mean (before / after) | {PostgresInsertRate:F0} /s ({PostgresInsertRates.Before:F0} / {PostgresInsertRates.After:F0}) | | |");
        sb.AppendLine(inv, $"| raw Redis ZADD (redis-benchmark, 32 clients) | {RedisZaddRate:F0} /s | | |");
        sb.AppendLine(inv, $"| raw emulator requests (64 concurrent HTTP clients) | {EmulatorRate:F0} /s | | |");
        sb.AppendLine(inv, $"| ratio create rate / INSERT rate | {CreateRate / PostgresInsertRate:F2} | ≥ 0.5 | {Met(CreateRate / PostgresInsertRate >= 0.5)} |");
        sb.AppendLine(inv, $"| ratio burst publish rate / emulator request rate | {burstRate / EmulatorRate:F2} ({burstRate:F0}/s) | | |");
        if (BullMq is { } bullmq)
        {
            sb.AppendLine(inv, $"| BullMQ {bullmq.BullmqVersion} burst of {bullmq.Jobs} on the same Redis (no-op job, concurrency {bullmq.Concurrency}): due instant → last completed | {bullmq.Seconds:F2} s | | |");
            sb.AppendLine(inv, $"| BullMQ burst lateness p50 / p99 / max | {bullmq.LatenessMs.P50:F0} / {bullmq.LatenessMs.P99:F0} / {bullmq.LatenessMs.Max:F0} ms | | |");
            sb.AppendLine(inv, $"| SocialSync burst of {options.BurstPosts}: due instant → last published and persisted | {BurstSeconds:F2} s | ≤ BullMQ's in the same run ({bullmq.Seconds:F2} s) | {Met(BurstSeconds <= bullmq.Seconds)} |");
            sb.AppendLine(inv, $"| ratio SocialSync burst time / BullMQ burst time | {BurstSeconds / bullmq.Seconds:F2} | ≤ 1 | {Met(BurstSeconds <= bullmq.Seconds)} |");
        }
        var sendFloor = options.BurstPosts / EmulatorRate;
        var writeFloor = options.BurstPosts / BatchCreateRate;
        sb.AppendLine(inv, $"| floor of a burst that sends and records every post on this machine: {options.BurstPosts} requests at the raw emulator rate + {options.BurstPosts} rows at the batched create rate | {sendFloor:F2} + {writeFloor:F2} = {sendFloor + writeFloor:F2} s | | |");
        sb.AppendLine(inv, $"| ratio SocialSync burst time / that floor | {BurstSeconds / (sendFloor + writeFloor):F2} | | |");
        sb.AppendLine();
        sb.AppendLine("Lateness is the emulator's receive time minus `publish_at`. The burst time ends at the later of the last");
        sb.AppendLine("message received and the last `published` status committed. BullMQ's burst runs after SocialSync's phases, on the");
        sb.AppendLine("same redis-server (its own database), warmed up with as many rounds and jobs as SocialSync's warm-up; its time ends");
        sb.AppendLine("at the worker's last `completed` event, and its lateness is each job's completion time minus the due instant.");
        sb.AppendLine();
        sb.AppendLine("CPU is read from /proc: each process's own time (PostgreSQL's with all its backends) and the whole machine's");
        sb.AppendLine("busy time over all cores, the burst's from its due instant until the polls saw it done, the creates' over the");
        sb.AppendLine("unary creates. The processes' times add up to nearly all of the machine's: they say where a phase's CPU went.");
        sb.AppendLine();
        sb.AppendLine("The floor is what the machine alone allows, measured in the same run: both raw rates use both cores, so their");
        sb.AppendLine("times add. It is lower than any real publish needs (a publish writes a claim, a run and an outcome, not one row),");
        sb.AppendLine("and BullMQ's no-op job does neither, which is why its time can be below the floor.");
        sb.AppendLine();
        sb.AppendLine("![lateness](lateness.png)");
        return sb.ToString();
    }

    private void DrawLatenessChart(string path)
    {
        var plot = new ScottPlot.Plot();
        AddCdf(plot, BurstLateness, $"burst of {options.BurstPosts}");
        AddCdf(plot, TrickleLateness, $"trickle {options.TrickleRate}/s");
        plot.Title("Publish lateness (received − publish_at)");
        plot.XLabel("lateness (ms)");
        plot.YLabel("share of posts published");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(path, 900, 500);
    }

    private static void AddCdf(ScottPlot.Plot plot, List<double> values, string label)
    {
        if (values.Count == 0)
        {
            return;
        }
        var sorted = values.Order().ToArray();
        var ys = Enumerable.Range(1, sorted.Length).Select(i => (double)i / sorted.Length).ToArray();
        var line = plot.Add.ScatterLine(sorted, ys);
        line.LegendText = label;
    }

    internal static string Met(bool met) => met ? "yes" : "**no**";

    internal static double MemoryGiB()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
    }

    /// <summary>The machine's 1-minute load average (/proc/loadavg): what else ran beside a measured phase.</summary>
    internal static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    internal static string Git(string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
