using System.Diagnostics;

namespace SocialSync.Benchmarks;

/// <summary>
/// One process whose memory the soak follows. <paramref name="NotJudgedBecause"/> is set for a process whose growth
/// is by design (so the soak shows it but does not fail on it).
/// </summary>
public sealed record MemorySource(string Name, string Measure, Func<double> ReadMb, ManagedHeapCounter? Heap = null, string? NotJudgedBecause = null);

/// <summary>What the soak saw of one process: its memory at each sample and, for .NET services, its managed heap.</summary>
public sealed record MemorySeries(MemorySource Source, List<MemorySample> Resident, List<MemorySample> Heap)
{
    public bool Judged => Source.NotJudgedBecause is null;

    public MemoryTrend Trend => MemoryTrend.Of(Resident);
}

/// <summary>Samples every source's memory at a fixed interval from its creation until <see cref="StopAsync"/>; disposing it also ends the sources' heap counters.</summary>
public sealed class MemorySampler : IAsyncDisposable
{
    private readonly List<MemorySeries> _series;
    private readonly TimeSpan _interval;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public MemorySampler(IEnumerable<MemorySource> sources, TimeSpan interval)
    {
        _series = sources.Select(s => new MemorySeries(s, [], [])).ToList();
        _interval = interval;
        _loop = Task.Run(SampleAsync);
    }

    /// <summary>The latest resident size of each source, for progress lines.</summary>
    public string Latest()
    {
        lock (_series)
        {
            return string.Join(", ", _series.Where(s => s.Resident.Count > 0).Select(s => $"{s.Source.Name} {s.Resident[^1].Megabytes:F0} MB"));
        }
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            var elapsed = _clock.Elapsed;
            lock (_series)
            {
                foreach (var series in _series)
                {
                    series.Resident.Add(new MemorySample(elapsed, series.Source.ReadMb()));
                    if (series.Source.Heap?.LatestMb is { } heap && !double.IsNaN(heap))
                    {
                        series.Heap.Add(new MemorySample(elapsed, heap));
                    }
                }
            }
        }
        while (await WaitAsync(timer));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<MemorySeries>> StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        return _series;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }
        _stop.Dispose();
        foreach (var series in _series)
        {
            series.Source.Heap?.Dispose();
        }
    }
}
