using System.Globalization;

namespace SocialSync.Benchmarks;

/// <summary>
/// A process to sample: with <paramref name="WithDescendants"/> its CPU counts every process below it (PostgreSQL's
/// backends are children of the postmaster, which a launcher starts in turn); with <paramref name="PeakMemory"/> its
/// peak resident memory is reported too.
/// </summary>
public sealed record SampledProcess(string Name, int Pid, bool WithDescendants = false, bool PeakMemory = true);

/// <summary>What one sampled process used while a phase ran; no peak memory for a process sampled for CPU only.</summary>
public sealed record ProcessUsage(string Name, double? PeakRssMb, double CpuSeconds);

/// <summary>
/// Samples processes' resident memory (peak) and CPU time from /proc while a phase runs, and the whole machine's busy
/// CPU time, so a report can say where a phase's CPU went: the services, and the servers beside them.
/// </summary>
public sealed class ResourceSampler : IAsyncDisposable
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly IReadOnlyList<SampledProcess> _processes;
    private readonly Dictionary<string, long> _peakRssKb = [];
    private readonly Dictionary<string, double> _cpuAtStart = [];
    private readonly double _machineBusyAtStart = MachineBusyTotal();
    private readonly long _startedAt = System.Diagnostics.Stopwatch.GetTimestamp();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ResourceSampler(IReadOnlyList<SampledProcess> processes)
    {
        _processes = processes;
        foreach (var process in processes)
        {
            _cpuAtStart[process.Name] = CpuSeconds(process);
            _peakRssKb[process.Name] = process.PeakMemory ? ProcessMemory.RssKb(process.Pid) : 0;
        }
        _loop = Task.Run(SampleAsync);
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var process in _processes.Where(p => p.PeakMemory))
            {
                _peakRssKb[process.Name] = Math.Max(_peakRssKb[process.Name], ProcessMemory.RssKb(process.Pid));
            }
            try
            {
                await Task.Delay(50, _stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>The busy CPU-seconds of the whole machine (every core, every process) since the sampler started.</summary>
    public double MachineBusySeconds { get; private set; }

    /// <summary>How long the sampler ran, in seconds.</summary>
    public double ElapsedSeconds { get; private set; }

    public async Task<IReadOnlyList<ProcessUsage>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        MachineBusySeconds = MachineBusyTotal() - _machineBusyAtStart;
        ElapsedSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(_startedAt).TotalSeconds;
        return _processes.Select(p => new ProcessUsage(p.Name, p.PeakMemory ? _peakRssKb[p.Name] / 1024.0 : null, CpuSeconds(p) - _cpuAtStart[p.Name]))
            .ToList();
    }

    /// <summary>
    /// CPU time of a process, or of it and its descendants: each one's own time and that of its children already gone
    /// (a backend that exits between two readings moves from the first sum's live processes into its parent's share).
    /// </summary>
    private static double CpuSeconds(SampledProcess process)
    {
        if (!process.WithDescendants)
        {
            return Ticks(process.Pid, withReapedChildren: false) / TicksPerSecond;
        }
        var tree = ProcessMemory.Descendants(process.Pid, ProcessMemory.ParentsById()).Prepend(process.Pid);
        return tree.Sum(pid => Ticks(pid, withReapedChildren: true)) / TicksPerSecond;
    }

    private static long Ticks(int pid, bool withReapedChildren)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[11..14] = utime, stime, cutime, cstime (the 14th to 17th of the whole line)
            return Enumerable.Range(11, withReapedChildren ? 4 : 2).Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Busy CPU-seconds of all cores since boot (/proc/stat: user, nice, system, irq and softirq; not idle, iowait, or
    /// steal, which is time the hypervisor gave to other machines).
    /// </summary>
    private static double MachineBusyTotal()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already in user)
        return (fields.Take(7).Sum() - fields[3] - fields[4]) / TicksPerSecond;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }
        _stop.Dispose();
    }
}
