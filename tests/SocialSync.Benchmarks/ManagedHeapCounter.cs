using System.Diagnostics.Tracing;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace SocialSync.Benchmarks;

/// <summary>
/// A .NET process's managed heap size (the runtime's gc-heap-size counter), read over EventPipe as dotnet-counters
/// reads it: the service needs no change, and the heap beside the resident size tells a managed leak from a native one.
/// </summary>
public sealed class ManagedHeapCounter : IDisposable
{
    private const string HeapSizeCounter = "gc-heap-size";
    private readonly EventPipeSession _session;
    private readonly Task _reading;
    private double _latestMb = double.NaN;

    private ManagedHeapCounter(EventPipeSession session)
    {
        _session = session;
        _reading = Task.Run(Read);
    }

    /// <summary>The last reported heap size in MB, or NaN before the first report.</summary>
    public double LatestMb => Volatile.Read(ref _latestMb);

    /// <summary>Starts the counters at <paramref name="interval"/>, or returns null when the process has no diagnostics port.</summary>
    public static ManagedHeapCounter? TryStart(int pid, TimeSpan interval)
    {
        try
        {
            var provider = new EventPipeProvider("System.Runtime", EventLevel.Informational, (long)EventKeywords.None,
                new Dictionary<string, string> { ["EventCounterIntervalSec"] = interval.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            return new ManagedHeapCounter(new DiagnosticsClient(pid).StartEventPipeSession([provider], requestRundown: false));
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or UnsupportedCommandException or TimeoutException or IOException)
        {
            return null;
        }
    }

    private void Read()
    {
        try
        {
            using var source = new EventPipeEventSource(_session.EventStream);
            source.Dynamic.All += OnEvent;
            source.Process();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The session ended with the process or with Dispose.
        }
    }

    private void OnEvent(TraceEvent data)
    {
        if (data.EventName != "EventCounters"
            || data.PayloadValue(0) is not IDictionary<string, object> envelope
            || envelope["Payload"] is not IDictionary<string, object> payload
            || payload["Name"] as string != HeapSizeCounter)
        {
            return;
        }
        Volatile.Write(ref _latestMb, Convert.ToDouble(payload["Mean"], System.Globalization.CultureInfo.InvariantCulture));
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception ex) when (ex is ServerNotAvailableException or TimeoutException or IOException or ObjectDisposedException)
        {
        }
        _reading.Wait(TimeSpan.FromSeconds(5));
        _session.Dispose();
    }
}
