using System.Globalization;
using System.Text;
using SocialSync.Posts.V1;

namespace SocialSync.Chaos;

public sealed record ChaosReportInput(
    ChaosOptions Options,
    string Command,
    string RunTag,
    TimeSpan Took,
    TimeSpan Startup,
    DateTimeOffset WindowStart,
    bool Converged,
    IReadOnlyList<Platform> Platforms,
    IReadOnlyList<string> Notes,
    Workload Workload,
    IReadOnlyList<FaultRecord> Faults,
    ChaosVerdict Verdict);

/// <summary>The run's report in Markdown: the verdict first, then the counts and timings behind it.</summary>
public static class ChaosReport
{
    internal const int ListedPerProblem = 10;

    public static string Write(ChaosReportInput run)
    {
        var o = run.Options;
        var v = run.Verdict;
        var planned = run.Workload.Posts;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"# SocialSync chaos report");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"`{run.Command}` — run `{run.RunTag}`, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, took {Seconds(run.Took)} (system start {Seconds(run.Startup)})");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"- posts: {planned.Count} planned — steady stream {planned.Count(p => !p.Burst)} (created during the faults: {planned.Count(p => p.Live)}), bursts {o.Bursts} × ~{(o.Bursts > 0 ? planned.Count(p => p.Burst) / o.Bursts : 0)} due at the same instant");
        s.AppendLine(CultureInfo.InvariantCulture, $"- approval: the first user's channels need it; a teammate approved {run.Workload.Approved} posts before they were due (never moved or cancelled)");
        s.AppendLine(CultureInfo.InvariantCulture, $"- users {o.Users}, channels {run.Workload.Channels.Count} ({string.Join(", ", run.Workload.Channels.GroupBy(c => c.Platform).Select(g => $"{Name(g.Key)} {g.Count()}"))}); window {o.Window.TotalSeconds:0} s; seed {o.Seed}; replicas: PostsService {ChaosRun.PostsReplicas}, PublisherService {ChaosRun.PublisherReplicas}, SchedulerService {ChaosRun.SchedulerReplicas}; PostgreSQL durable (fsync on) with a synchronous standby; Redis {(o.RedisCluster ? "Cluster (3 masters, 1 replica each)" : "one redis-server")}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- settings: {string.Join(", ", ChaosRun.SystemSettings.Select(kv => $"{kv.Key}={kv.Value}"))}");
        foreach (var note in run.Notes)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"- note: {note}");
        }
        s.AppendLine();

        s.AppendLine(CultureInfo.InvariantCulture, $"## Verdict: {(v.Passed && run.Faults.All(f => f.Error is null) ? "PASS" : "FAIL")}{(run.Converged ? "" : " (did not converge within " + Seconds(o.ConvergenceBound) + ")")}");
        s.AppendLine();
        s.AppendLine("| check | posts |");
        s.AppendLine("|---|---:|");
        s.AppendLine(CultureInfo.InvariantCulture, $"| lost (not final, or published without reaching the platform) | {v.Lost.Count} |");
        s.AppendLine(CultureInfo.InvariantCulture, $"| duplicated (reached the platform more than once) | {v.Duplicates.Count} |");
        s.AppendLine(CultureInfo.InvariantCulture, $"| early (reached the platform before publish_at) | {v.Early.Count} |");
        s.AppendLine(CultureInfo.InvariantCulture, $"| cancelled but published | {v.CancelledButPublished.Count} |");
        s.AppendLine(CultureInfo.InvariantCulture, $"| final state without a reason | {v.WithoutReason.Count} |");
        s.AppendLine(CultureInfo.InvariantCulture, $"| platform effects of no known post | {v.UnknownEffects.Count} |");
        s.AppendLine();
        foreach (var (title, list) in new[] { ("Lost", v.Lost), ("Duplicated", v.Duplicates), ("Early", v.Early), ("Cancelled but published", v.CancelledButPublished), ("Without a reason", v.WithoutReason), ("Unknown effects", v.UnknownEffects) })
        {
            if (list.Count > 0)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"{title}:");
                foreach (var line in list.Take(ListedPerProblem))
                {
                    s.AppendLine(CultureInfo.InvariantCulture, $"- {line}");
                }
                s.AppendLine();
            }
        }
        if (v.RunsOfDuplicates.Count > 0)
        {
            s.AppendLine("Attempts of the duplicated posts (times after publish_at):");
            foreach (var (id, runs) in v.RunsOfDuplicates)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"- {id}: {string.Join("; ", runs)}");
            }
            s.AppendLine();
        }

        s.AppendLine("## Final states");
        s.AppendLine();
        s.AppendLine("| status | posts | reached the platform once | not at all |");
        s.AppendLine("|---|---:|---:|---:|");
        foreach (var group in v.Posts.GroupBy(p => p.Status).OrderByDescending(g => g.Count()))
        {
            var once = group.Count(p => v.EffectsByMarker.TryGetValue(p.Marker, out var e) && e.Count == 1);
            var none = group.Count(p => !v.EffectsByMarker.ContainsKey(p.Marker));
            s.AppendLine(CultureInfo.InvariantCulture, $"| {group.Key} | {group.Count()} | {once} | {none} |");
        }
        var notCreated = planned.Where(p => p.PostId is null && v.Posts.All(r => r.Marker != p.Marker)).ToList();
        s.AppendLine(CultureInfo.InvariantCulture, $"| (refused at create) | {notCreated.Count} | | |");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Per platform: {string.Join("; ", v.Posts.GroupBy(p => p.Platform).Select(g => $"{g.Key} {g.Count()} ({g.Count(p => p.Status == "published")} published)"))}. Posts that needed a retry: {v.Posts.Count(p => p.RetryCount > 0)}.");
        s.AppendLine();
        var reasons = v.Posts.Where(p => p.Status is "failed" or "unconfirmed" or "missed")
            .GroupBy(p => $"{p.Status}: {Shorten(p.Error)}").OrderByDescending(g => g.Count()).Take(8).ToList();
        if (reasons.Count > 0)
        {
            s.AppendLine("Reasons given:");
            foreach (var reason in reasons)
            {
                s.AppendLine(CultureInfo.InvariantCulture, $"- {reason.Count()} × {reason.Key}");
            }
            s.AppendLine();
        }
        foreach (var refused in notCreated.GroupBy(p => Shorten(p.CreateError ?? "no answer")).Take(3))
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"- refused at create: {refused.Count()} × {refused.Key}");
        }
        if (v.SentButFailed.Count > 0)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"- failed after reaching the platform (partial sends): {v.SentButFailed.Count}, e.g. {v.SentButFailed[0]}");
        }

        var moves = planned.Where(p => p.Mutation == Mutation.Move).ToList();
        var cancels = planned.Where(p => p.Mutation == Mutation.Cancel).ToList();
        s.AppendLine(CultureInfo.InvariantCulture, $"- moved just before due: {moves.Count(p => p.MutationApplied == true)} of {moves.Count} applied{MutationNotes(moves)}");
        s.AppendLine(CultureInfo.InvariantCulture, $"- cancelled just before due: {cancels.Count(p => p.MutationApplied == true)} of {cancels.Count} applied{MutationNotes(cancels)}");
        s.AppendLine();

        s.AppendLine("## Lateness (first platform effect − publish_at, published posts)");
        s.AppendLine();
        s.AppendLine("| posts | p50 | p99 | max |");
        s.AppendLine("|---:|---:|---:|---:|");
        s.AppendLine(CultureInfo.InvariantCulture, $"| {v.Lateness.Count} | {Millis(v.LatenessPercentile(0.5))} | {Millis(v.LatenessPercentile(0.99))} | {Millis(v.LatenessPercentile(1))} |");
        s.AppendLine();

        s.AppendLine("## Faults and recoveries");
        s.AppendLine();
        s.AppendLine("Recovery: from the fault's end (the part healthy again, the fault disarmed) to the next post reaching the platform (for an account-scoped fault, on that account). Worst lateness: of the posts due while the fault lasted.");
        s.AppendLine();
        s.AppendLine("| at | fault | lasted | recovery | worst lateness | detail |");
        s.AppendLine("|---:|---|---:|---:|---:|---|");
        var effects = v.AllEffects.OrderBy(e => e.Time).ToList();
        foreach (var fault in run.Faults.OrderBy(f => f.StartedAt))
        {
            var next = effects.FirstOrDefault(e => e.Time > fault.EndedAt && (fault.Account is null || e.Account == fault.Account));
            var recovery = next is null ? "none seen" : Millis(next.Time - fault.EndedAt);
            var dueDuring = v.Posts.Where(p => p.Status == "published" && p.PublishAt >= fault.StartedAt && p.PublishAt <= fault.EndedAt
                                               && v.EffectsByMarker.ContainsKey(p.Marker))
                .Select(p => v.EffectsByMarker[p.Marker][0].Time - p.PublishAt).DefaultIfEmpty(TimeSpan.Zero).Max();
            s.AppendLine(CultureInfo.InvariantCulture,
                $"| {(fault.StartedAt - run.WindowStart).TotalSeconds:0.0} s | {fault.Kind} | {Seconds(fault.EndedAt - fault.StartedAt)} | {recovery} | {Millis(dueDuring)} | {fault.Detail}{(fault.Error is null ? "" : " — ERROR: " + fault.Error)} |");
        }
        return s.ToString();
    }

    private static string MutationNotes(List<PlannedPost> posts)
    {
        var notes = posts.Where(p => p.MutationApplied != true && p.MutationNote is not null)
            .GroupBy(p => Shorten(p.MutationNote!)).Select(g => $"{g.Count()} × {g.Key}").ToList();
        return notes.Count == 0 ? "" : $" (not applied: {string.Join("; ", notes.Take(3))})";
    }

    private static string Shorten(string text) => text.Length > 110 ? text[..110] + "…" : text;

    private static string Name(Platform platform) => platform.ToString().ToLowerInvariant();

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";

    private static string Millis(TimeSpan span) => span.TotalSeconds >= 10 ? $"{span.TotalSeconds:0.0} s" : $"{span.TotalMilliseconds:0} ms";
}
