namespace SocialSync.SchedulerService.Scheduling;

/// <summary>Wakes the dispatch loop early when the earliest due time may have changed.</summary>
public sealed class WakeSignal
{
    private TaskCompletionSource _signal = New();

    /// <summary>Completes at the next pulse. Take it before reading the index, so a pulse in between is not lost.</summary>
    public Task NextPulse => Volatile.Read(ref _signal).Task;

    public void Pulse() => Interlocked.Exchange(ref _signal, New()).TrySetResult();

    public static async Task WaitAsync(Task nextPulse, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            await nextPulse.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
