namespace SocialSync.SchedulerService.Scheduling;

/// <summary>What the loops last achieved, for health and the status RPC.</summary>
public sealed class SchedulerState(TimeProvider time)
{
    private long _dispatched;
    private long _dispatchPasses;
    private long _lastDispatchLoopTicks;
    private long _lastRelayTicks;
    private long _lastSafetyNetTicks;
    private long _lastDispatchTicks;

    public string InstanceId { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    public long Dispatched => Interlocked.Read(ref _dispatched);

    public bool RedisReachable { get; set; } = true;

    public DateTimeOffset? LastDispatchAt => Read(ref _lastDispatchTicks);

    public DateTimeOffset? LastDispatchLoopProgress => Read(ref _lastDispatchLoopTicks);

    public DateTimeOffset? LastRelayProgress => Read(ref _lastRelayTicks);

    public DateTimeOffset? LastSafetyNetProgress => Read(ref _lastSafetyNetTicks);

    public void SafetyNetProgressed() => Interlocked.Exchange(ref _lastSafetyNetTicks, time.GetUtcNow().UtcTicks);

    /// <summary>How many times the dispatch loop has read the index and gone back to sleep.</summary>
    public long DispatchPasses => Interlocked.Read(ref _dispatchPasses);

    public void DispatchLoopProgressed()
    {
        Interlocked.Exchange(ref _lastDispatchLoopTicks, time.GetUtcNow().UtcTicks);
        Interlocked.Increment(ref _dispatchPasses);
    }

    public void RelayProgressed() => Interlocked.Exchange(ref _lastRelayTicks, time.GetUtcNow().UtcTicks);

    public void PostsDispatched(int count)
    {
        Interlocked.Add(ref _dispatched, count);
        Interlocked.Exchange(ref _lastDispatchTicks, time.GetUtcNow().UtcTicks);
    }

    private static DateTimeOffset? Read(ref long ticks)
    {
        var value = Interlocked.Read(ref ticks);
        return value == 0 ? null : new DateTimeOffset(value, TimeSpan.Zero);
    }
}
