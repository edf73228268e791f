using System.Globalization;
using System.Text;

namespace SocialSync.Benchmarks;

/// <summary>A soak's figures, written as bench/soak.md with bench/soak-memory.png of every process's memory over time.</summary>
public sealed class SoakReport(BenchmarkOptions options)
{
    public const string ChartFile = "soak-memory.png";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>When the first posts were created and the sampling began: every sample's elapsed time counts from here.</summary>
    public DateTimeOffset LoadStarted { get; set; }
    public IReadOnlyList<MemorySeries> Memory { get; set; } = [];
    /// <summary>Messages the emulator had when the last post came due: far below the total, the system fell behind and its memory held a backlog.</summary>
    public long PublishedAtLoadEnd { get; set; }

    public long Published { get; set; }
    public int Received { get; set; }
    public int Distinct { get; set; }
    public List<(DateTimeOffset Due, double Milliseconds)> Lateness { get; set; } = [];

    /// <summary>The lateness of the posts due after the memory's warm-up: the steady state, without the cold start.</summary>
    public List<double> LatenessAfterWarmUp
    {
        get
        {
            var warmedUp = LoadStarted + MemoryTrend.WarmUpOf(Memory.Count > 0 ? Memory[0].Resident[^1].Elapsed : TimeSpan.Zero);
            return Lateness.Where(l => l.Due >= warmedUp).Select(l => l.Milliseconds).ToList();
        }
    }

    private long Total => (long)options.TrickleRate * options.TrickleSeconds;

    public bool EachPublishedOnce => Published == Total && Received == Total && Distinct == Total;

    /// <summary>The soak passes when every post went out exactly once and no judged process kept growing.</summary>
    public bool Passed => EachPublishedOnce && Memory.Where(s => s.Judged).All(s => s.Trend.IsFlat);

    public async Task<string> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        DrawMemoryChart(Path.Combine(directory, ChartFile));
        var path = Path.Combine(directory, "soak.md");
        await File.WriteAllTextAsync(path, Markdown());
        return path;
    }

    private string Markdown()
    {
        var lateness = Distribution.Of(Lateness.Select(l => l.Milliseconds).ToList());
        var steady = Distribution.Of(LatenessAfterWarmUp);
        var sb = new StringBuilder();
        sb.AppendLine("# SocialSync soak");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- when: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; commit `{BenchmarkReport.Git("rev-parse --short HEAD")}`");
        sb.AppendLine(Inv, $"- machine: {Environment.ProcessorCount} cores, {BenchmarkReport.MemoryGiB():F1} GiB memory, {Environment.OSVersion}, .NET {Environment.Version}");
        sb.AppendLine(Inv, $"- system: Release builds as separate processes, PostgreSQL with fsync on, one scheduler, emulator answering at once, the AppHost's telemetry environment (`OTEL_TRACES_SAMPLER=always_on`)");
        var creation = options.SoakCreateAhead ? "all created before the first is due (the index empties as they go out; the clock starts at the first due time)" : $"each created {SoakRun.Lead.TotalSeconds:F0} s before it is due (the index holds a steady {SoakRun.Lead.TotalSeconds:F0} s of posts)";
        sb.AppendLine(Inv, $"- load: {options.TrickleRate} posts/s due continuously for {options.TrickleSeconds} s, {creation}, in batches of 100; memory sampled every {options.SampleSeconds} s");
        sb.AppendLine(Inv, $"- command: `./build.sh bench --soak --trickle-rate {options.TrickleRate} --trickle-seconds {options.TrickleSeconds}{(options.SoakCreateAhead ? " --create-ahead" : "")}`");
        sb.AppendLine(Inv, $"- result: **{(Passed ? "PASS" : "FAIL")}**");
        sb.AppendLine();
        sb.AppendLine("| figure | value | target | met |");
        sb.AppendLine("|---|---|---|---|");
        sb.AppendLine(Inv, $"| posts published (PostgreSQL) / messages received / distinct posts | {Published} / {Received} / {Distinct} | {Total} each | {BenchmarkReport.Met(EachPublishedOnce)} |");
        sb.AppendLine(Inv, $"| published when the last post came due (the rest was a backlog) | {PublishedAtLoadEnd} of {Total} | | |");
        sb.AppendLine(Inv, $"| lateness p50 / p99 / max, every post | {lateness.P50:F0} / {lateness.P99:F0} / {lateness.Max:F0} ms | | |");
        sb.AppendLine(Inv, $"| lateness p50 / p99 / max, the {steady.Count} posts due after warm-up | {steady.P50:F0} / {steady.P99:F0} / {steady.Max:F0} ms | p99 ≤ 100 ms (not part of the verdict) | {BenchmarkReport.Met(steady.P99 <= 100)} |");
        foreach (var series in Memory)
        {
            var first = series.Resident[0].Megabytes;
            var last = series.Resident[^1].Megabytes;
            if (!series.Judged)
            {
                sb.AppendLine(Inv, $"| {series.Source.Name}: {series.Source.Measure} first → last | {first:F0} → {last:F0} MB | not judged: {series.Source.NotJudgedBecause} | |");
                continue;
            }
            var trend = series.Trend;
            sb.AppendLine(Inv, $"| {series.Source.Name}: memory flat after warm-up ({series.Source.Measure} {first:F0} → {last:F0} MB; after {trend.WarmUp.TotalSeconds:F0} s: mean {trend.MeanMb:F0} MB, noise floor {trend.NoiseFloorMbPerHour:F0} MB/h) | {trend.SlopeMbPerHour:+0;-0;0} MB/h | < {trend.LimitMbPerHour:F0} MB/h | {BenchmarkReport.Met(trend.IsFlat)} |");
        }
        sb.AppendLine();
        sb.AppendLine("A line through the samples after warm-up (least squares) gives each process's growth, extrapolated over an hour.");
        sb.AppendLine(Inv, $"Memory counts as growing when that slope is above {MemoryTrend.FixedLimitMbPerHour:F0} MB/h or {MemoryTrend.RelativeLimitPerHour:P0} of the mean an hour, whichever is");
        sb.AppendLine(Inv, $"larger, and above the run's noise floor ({MemoryTrend.NoiseDeviations:F0} standard deviations of the samples around the line, risen over the fitted");
        sb.AppendLine("window): a short run cannot tell slow growth from the garbage collector's sawtooth, and the noise floor says how slow");
        sb.AppendLine("a growth this run could see. Warm-up is the first fifth of the run, at least two minutes (half of a run under four).");
        sb.AppendLine("SocialSync's three services are judged; Redis, PostgreSQL and the emulator are shown, each with why it is not.");
        sb.AppendLine("The run fails (exit code 1) when a judged service grows or a post is lost or published twice. Lateness is the");
        sb.AppendLine("emulator's receive time minus `publish_at`; its target is read on the posts due after warm-up (the system starts");
        sb.AppendLine("cold). The managed heap is the runtime's `gc-heap-size` counter, read over EventPipe.");
        sb.AppendLine();
        sb.AppendLine(Inv, $"![memory over time]({ChartFile})");
        sb.AppendLine();
        AppendTable(sb);
        return sb.ToString();
    }

    /// <summary>One row a minute, or a tenth of the run when it is shorter than ten minutes.</summary>
    private void AppendTable(StringBuilder sb)
    {
        var tenth = Math.Min(60, options.TrickleSeconds / 10);
        var step = TimeSpan.FromSeconds(Math.Max(1, (tenth + options.SampleSeconds - 1) / options.SampleSeconds) * options.SampleSeconds);
        sb.AppendLine("Memory in MB (resident; managed heap in brackets for .NET services):");
        sb.AppendLine();
        sb.AppendLine("| elapsed | " + string.Join(" | ", Memory.Select(s => $"{s.Source.Name} ({s.Source.Measure})")) + " |");
        sb.AppendLine("|---" + string.Concat(Enumerable.Repeat("|---", Memory.Count)) + "|");
        var end = Memory.Max(s => s.Resident[^1].Elapsed);
        for (var at = TimeSpan.Zero; at <= end + step / 2; at += step)
        {
            var cells = Memory.Select(s =>
            {
                var resident = Nearest(s.Resident, at);
                var heap = s.Heap.Count > 0 ? $" [{Nearest(s.Heap, at).Megabytes:F0}]" : "";
                return $"{resident.Megabytes:F0}{heap}";
            });
            sb.AppendLine(Inv, $"| {Nearest(Memory[0].Resident, at).Elapsed:m\\:ss} | {string.Join(" | ", cells)} |");
        }
    }

    private static MemorySample Nearest(List<MemorySample> samples, TimeSpan at) => samples.MinBy(s => (s.Elapsed - at).Duration());

    private void DrawMemoryChart(string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var series in Memory)
        {
            var resident = plot.Add.ScatterLine(Minutes(series.Resident), series.Resident.Select(s => s.Megabytes).ToArray());
            resident.LegendText = $"{series.Source.Name} ({series.Source.Measure}){(series.Judged ? "" : ", not judged")}";
            resident.MarkerSize = 0;
            if (series.Heap.Count > 0)
            {
                var heap = plot.Add.ScatterLine(Minutes(series.Heap), series.Heap.Select(s => s.Megabytes).ToArray(), resident.Color);
                heap.LegendText = $"{series.Source.Name} managed heap";
                heap.LinePattern = ScottPlot.LinePattern.Dotted;
                heap.MarkerSize = 0;
            }
            if (series.Judged)
            {
                AddFittedLine(plot, series, resident.Color);
            }
        }
        if (Memory.Count > 0)
        {
            var warmUp = plot.Add.VerticalLine(MemoryTrend.WarmUpOf(Memory[0].Resident[^1].Elapsed).TotalMinutes);
            warmUp.LabelText = "end of warm-up";
            warmUp.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title($"Memory under a steady {options.TrickleRate} posts/s");
        plot.XLabel("minutes since the load started");
        plot.YLabel("MB");
        plot.Axes.SetLimitsY(0, Memory.SelectMany(s => s.Resident).Select(s => s.Megabytes).DefaultIfEmpty(100).Max() * 1.1);
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1300, 600);
    }

    /// <summary>The least-squares line the verdict is drawn from, over the window it was fitted to.</summary>
    private static void AddFittedLine(ScottPlot.Plot plot, MemorySeries series, ScottPlot.Color color)
    {
        var trend = series.Trend;
        var from = trend.WarmUp;
        var to = series.Resident[^1].Elapsed;
        var line = plot.Add.ScatterLine(new[] { from.TotalMinutes, to.TotalMinutes }, new[] { trend.FittedMbAt(from), trend.FittedMbAt(to) }, color);
        line.LegendText = $"{series.Source.Name} fitted after warm-up ({trend.SlopeMbPerHour:+0;-0;0} MB/h)";
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        line.LineWidth = 2;
        line.MarkerSize = 0;
    }

    private static double[] Minutes(List<MemorySample> samples) => samples.Select(s => s.Elapsed.TotalMinutes).ToArray();
}
