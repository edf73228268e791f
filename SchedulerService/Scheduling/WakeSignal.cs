namespace SocialSync.SchedulerService.Scheduling;

/// <summary>Wakes the dispatch loop early when the earliest due time may have changed.</summary>
public sealed class WakeSignal
{
    private TaskCompletionSource _signal = New();

    /// <summary>Completes at the next pulse. Take it before reading the index, so a pulse in between is not lost.</summary>
    public Task NextPulse => Volatile.Read(ref _signal).Task;

    public void Pulse() => Interlocked.Exchange(ref _signal, New()).TrySetResult();

    /// <summary>Waits until <paramref name="until"/> (by <paramref name="time"/>) or the pulse, whichever comes first.</summary>
    public static async Task WaitUntilAsync(Task nextPulse, DateTimeOffset until, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = until - time.GetUtcNow();
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        var wait = nextPulse.WaitAsync(delay, time, cancellationToken);
        // The clock may have moved between reading it and arming the timer (a test clock does, in jumps).
        if (time.GetUtcNow() >= until)
        {
            return;
        }
        try
        {
            await wait;
        }
        catch (TimeoutException)
        {
        }
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
