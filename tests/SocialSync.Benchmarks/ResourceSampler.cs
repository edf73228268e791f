using System.Globalization;

namespace SocialSync.Benchmarks;

/// <summary>Samples a process's resident memory (peak) and CPU time from /proc while a phase runs.</summary>
public sealed class ResourceSampler : IAsyncDisposable
{
    private static readonly double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly Dictionary<string, int> _processes;
    private readonly Dictionary<string, long> _peakRssKb = [];
    private readonly Dictionary<string, double> _cpuAtStart = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ResourceSampler(Dictionary<string, int> processes)
    {
        _processes = processes;
        foreach (var (name, pid) in processes)
        {
            _cpuAtStart[name] = CpuSeconds(pid);
            _peakRssKb[name] = ProcessMemory.RssKb(pid);
        }
        _loop = Task.Run(SampleAsync);
    }

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var (name, pid) in _processes)
            {
                _peakRssKb[name] = Math.Max(_peakRssKb[name], ProcessMemory.RssKb(pid));
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

    public async Task<IReadOnlyList<(string Name, double PeakRssMb, double CpuSeconds)>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return _processes.Select(p => (p.Key, _peakRssKb[p.Key] / 1024.0, CpuSeconds(p.Value) - _cpuAtStart[p.Key])).ToList();
    }

    private static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[11] = utime, fields[12] = stime (the 14th and 15th of the whole line)
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
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
