using System.Globalization;

namespace SocialSync.Benchmarks;

/// <summary>A process's memory as Linux accounts it, read from /proc.</summary>
public static class ProcessMemory
{
    /// <summary>Resident set size (VmRSS) in kB, or 0 once the process is gone.</summary>
    public static long RssKb(int pid) => StatusField($"/proc/{pid}/status", "VmRSS:");

    /// <summary>
    /// Proportional set size in kB of a process and all its descendants: PostgreSQL's backends share its buffers,
    /// so their resident sizes added up would count that memory once per backend.
    /// </summary>
    public static long TreePssKb(int rootPid)
    {
        var parents = ParentsById();
        return Descendants(rootPid, parents).Prepend(rootPid).Sum(pid => StatusField($"/proc/{pid}/smaps_rollup", "Pss:"));
    }

    /// <summary>The first descendant of this process whose command line contains <paramref name="text"/>.</summary>
    public static int? FindDescendant(string text)
    {
        foreach (var pid in Descendants(Environment.ProcessId, ParentsById()))
        {
            try
            {
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(text, StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
        }
        return null;
    }

    internal static IEnumerable<int> Descendants(int rootPid, Dictionary<int, int> parents)
    {
        var children = parents.ToLookup(p => p.Value, p => p.Key);
        var pending = new Stack<int>(children[rootPid]);
        while (pending.TryPop(out var pid))
        {
            yield return pid;
            foreach (var child in children[pid])
            {
                pending.Push(child);
            }
        }
    }

    internal static Dictionary<int, int> ParentsById()
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText($"{directory}/stat");
                // After "(comm)": state, then the parent's id.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }
        return parents;
    }

    private static long StatusField(string path, string field)
    {
        try
        {
            var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
