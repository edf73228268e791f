namespace SocialSync.PostsService.Data;

/// <summary>
/// Wakes long-polling PullScheduleChanges calls when this replica commits a schedule change (a create, a move, a
/// cancel). Changes committed elsewhere (another replica, an outcome, a lease recovery) are found by the long poll's
/// own short re-checks of the outbox (<see cref="RecheckInterval"/>).
/// </summary>
/// <remarks>Not LISTEN/NOTIFY: NOTIFY serializes the commits of every transaction that sends one.</remarks>
public sealed class ScheduleChangeNotifier
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(50);

    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Completes when a change is signalled after this call, or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        // WhenAny, not WaitAsync(timeout): a timeout is the common case here (every re-check), not an exception.
        await Task.WhenAny(Volatile.Read(ref _changed).Task, Task.Delay(timeout, time, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }

    public void Pulse() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
