using System.Globalization;
using System.Text;

namespace SocialSync.Benchmarks;

/// <summary>bench/million.md: each figure on the empty table next to the same figure on the preloaded one, and how much worse it got.</summary>
public sealed class MillionReport(BenchmarkOptions options, PreloadSize size, PreloadTimes preload, PhaseFigures empty, PhaseFigures preloaded)
{
    /// <summary>A figure worse than this many times its empty-table twin is flagged (issue 18's "Done when").</summary>
    public const double Limit = 2.0;

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public async Task<string> WriteAsync(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "million.md");
        await File.WriteAllTextAsync(path, Markdown());
        return path;
    }

    private string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("# SocialSync at a million posts");
        sb.AppendLine();
        sb.AppendLine(Inv, $"- when: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; commit `{BenchmarkReport.Git("rev-parse --short HEAD")}`");
        sb.AppendLine(Inv, $"- machine: {Environment.ProcessorCount} cores, {BenchmarkReport.MemoryGiB():F1} GiB memory, {Environment.OSVersion}, .NET {Environment.Version}; 1-minute load average at each phase's start → end: empty {empty.LoadAverage.Start:F1} → {empty.LoadAverage.End:F1}, preloaded {preloaded.LoadAverage.Start:F1} → {preloaded.LoadAverage.End:F1} (the benchmark's own processes included, about 3 on this machine with nothing else running: a phase that starts much higher shared the cores, and its ratios say that rather than the table's size)");
        sb.AppendLine("- system: Release builds as separate processes, PostgreSQL with fsync on and its default settings (128 MB shared_buffers), one PostsService, one scheduler, one publisher, emulator answering at once");
        sb.AppendLine(Inv, $"- command: `./build.sh bench --million --posts {size.Posts}` (options: create {options.CreatePosts}, burst {options.BurstPosts}, trickle {options.TrickleRate}/s for {options.TrickleSeconds} s, warm-up {BenchmarkRun.WarmupRounds} rounds of {options.WarmupPosts})");
        sb.AppendLine(Inv, $"- empty table: the warm-up's published posts and one user's {options.ListUserPosts:N0} posts made through the API, plus each phase's own posts");
        sb.AppendLine(Inv, $"- preloaded: {size.Posts:N0} scheduled posts over the coming {PreloadSize.ScheduleDays} days and {size.HistoryPosts:N0} published posts of the last {PreloadSize.HistoryDays} days with {size.Runs:N0} runs ({PreloadSize.RunsPerHistoryPost} each), across {size.Users:N0} users (a personal workspace each) and {size.Channels:N0} WhatsApp channels");
        sb.AppendLine(Inv, $"- preload time: {preload.Total.TotalSeconds:F0} s (users and channels {preload.UsersAndChannels.TotalSeconds:F1} s, scheduled posts {preload.ScheduledPosts.TotalSeconds:F0} s, published posts {preload.HistoryPosts.TotalSeconds:F0} s, runs {preload.Runs.TotalSeconds:F0} s, vacuum analyze {preload.Analyze.TotalSeconds:F0} s, checkpoint {preload.Checkpoint.TotalSeconds:F0} s), server-side `insert ... select ... generate_series` (tests/SocialSync.Benchmarks/Preload.cs)");
        sb.AppendLine();
        sb.AppendLine(Inv, $"\"worse by\" is preloaded ÷ empty for times and sizes, empty ÷ preloaded for rates; above {Limit:F0}× it is flagged. Latencies are {MillionRun.LatencySamples} calls one at a time after 10 unmeasured ones, lists of 100 posts.");
        sb.AppendLine();
        sb.AppendLine("| figure | empty table | preloaded | worse by |");
        sb.AppendLine("|---|---|---|---|");
        Rate("create, unary gRPC, 32 concurrent (posts/s)", empty.CreateRate, preloaded.CreateRate);
        Rate("create, BatchCreatePosts of 100, 8 concurrent (posts/s)", empty.BatchCreateRate, preloaded.BatchCreateRate);
        Time($"burst of {options.BurstPosts}: due instant → last published and persisted (s)", empty.Burst.Seconds, preloaded.Burst.Seconds, "F2");
        Time("burst lateness p99 (ms)", Distribution.Of(empty.Burst.Lateness).P99, Distribution.Of(preloaded.Burst.Lateness).P99, "F0");
        Row("burst: received / distinct", $"{empty.Burst.Received} / {empty.Burst.Distinct}", $"{preloaded.Burst.Received} / {preloaded.Burst.Distinct}", "");
        Time($"trickle {options.TrickleRate}/s for {options.TrickleSeconds} s, lateness p50 (ms)", Distribution.Of(empty.Trickle.Lateness).P50, Distribution.Of(preloaded.Trickle.Lateness).P50, "F0");
        Time($"trickle lateness p99 (ms)", Distribution.Of(empty.Trickle.Lateness).P99, Distribution.Of(preloaded.Trickle.Lateness).P99, "F0");
        Row("trickle: received / distinct", $"{empty.Trickle.Received} / {empty.Trickle.Distinct}", $"{preloaded.Trickle.Received} / {preloaded.Trickle.Distinct}", "");
        Latency($"ListPosts, user with {options.ListUserPosts:N0} posts, first page", empty.ListFirstPage, preloaded.ListFirstPage);
        Latency("ListPosts, 50th page by page token", empty.ListPage50, preloaded.ListPage50);
        Latency("ListPosts, 50th page by ?offset=4900 (the original REST contract)", empty.ListOffsetPage50, preloaded.ListOffsetPage50);
        Latency("GetPostStatistics, the same user", empty.PostStatistics, preloaded.PostStatistics);
        Latency("GetChannelStatistics (last 30 days), the same user", empty.ChannelStatistics, preloaded.ChannelStatistics);
        if (preloaded.HistoryUserStatistics is var (historyPosts, historyChannels))
        {
            Row("GetPostStatistics, a preloaded user (1,000 scheduled + 1,000 published, 3,000 runs), p50 / p99 (ms)", "—", $"{historyPosts.P50:F1} / {historyPosts.P99:F1}", "");
            Row("GetChannelStatistics (30 days), that user, p50 / p99 (ms)", "—", $"{historyChannels.P50:F1} / {historyChannels.P99:F1}", "");
        }
        Row("posts in the scheduler's index", empty.IndexedPosts.ToString("N0", Inv), preloaded.IndexedPosts.ToString("N0", Inv), "");
        Time("index rebuild after FLUSHALL (s)", empty.RebuildSeconds, preloaded.RebuildSeconds, "F1");
        Rate("index rebuild rate (posts/s)", empty.IndexedPosts / empty.RebuildSeconds, preloaded.IndexedPosts / preloaded.RebuildSeconds);
        Time("Redis used_memory after the rebuild (MiB)", empty.RedisUsedMemory / 1048576.0, preloaded.RedisUsedMemory / 1048576.0, "F1");
        Time("Redis memory per indexed post (bytes)", PerPost(empty), PerPost(preloaded), "F0");
        sb.AppendLine();
        sb.AppendLine("## PostgreSQL tables (over 1 MiB)");
        sb.AppendLine();
        sb.AppendLine("| table | rows, empty | table + indexes, empty (MiB) | rows, preloaded | table + indexes, preloaded (MiB) |");
        sb.AppendLine("|---|---|---|---|---|");
        var emptyTables = empty.Tables.ToDictionary(t => t.Relation);
        foreach (var (relation, table, indexes, rows) in preloaded.Tables)
        {
            var before = emptyTables.TryGetValue(relation, out var e) ? $"{e.Rows:N0} | {e.TableBytes / 1048576.0:F1} + {e.IndexBytes / 1048576.0:F1}" : "— | —";
            sb.AppendLine(Inv, $"| {relation} | {before} | {rows:N0} | {table / 1048576.0:F1} + {indexes / 1048576.0:F1} |");
        }
        sb.AppendLine();
        sb.AppendLine("What these figures mean, which flagged ones are expected and what would change them: docs/scale.md.");
        return sb.ToString();

        void Row(string figure, string before, string after, string worse) => sb.AppendLine(Inv, $"| {figure} | {before} | {after} | {worse} |");
        void Time(string figure, double before, double after, string format) =>
            Row(figure, before.ToString(format, Inv), after.ToString(format, Inv), Worse(after / before));
        void Rate(string figure, double before, double after) =>
            Row(figure, before.ToString("F0", Inv), after.ToString("F0", Inv), Worse(before / after));
        void Latency(string figure, Distribution before, Distribution after) =>
            Row(figure + ", p50 / p99 (ms)", $"{before.P50:F1} / {before.P99:F1}", $"{after.P50:F1} / {after.P99:F1}", Worse(after.P99 / before.P99));
    }

    private static double PerPost(PhaseFigures phase) =>
        phase.IndexedPosts == 0 ? double.NaN : (phase.RedisUsedMemory - phase.RedisEmptyMemory) / (double)phase.IndexedPosts;

    private static string Worse(double factor) =>
        double.IsFinite(factor) ? (factor > Limit ? $"**{factor:F2}×**" : $"{factor:F2}×") : "";
}
