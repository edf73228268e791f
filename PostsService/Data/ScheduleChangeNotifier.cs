using Npgsql;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Wakes long-polling PullScheduleChanges calls the moment a schedule change commits, on any PostsService replica:
/// the outbox trigger runs pg_notify('schedule_changes') and this service LISTENs on a dedicated connection.
/// </summary>
public sealed partial class ScheduleChangeNotifier(PostsDatabase database, ILogger<ScheduleChangeNotifier> log) : BackgroundService
{
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Completes when a change is notified after this call, or when <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var signal = Volatile.Read(ref _changed).Task;
        try
        {
            await signal.WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }

    public void Pulse() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await database.Owner.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, _) => Pulse();
                await using (var listen = new NpgsqlCommand("listen schedule_changes", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                Pulse(); // anything committed while we were not listening
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogListenFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(1, LogLevel.Warning, "Listening for schedule changes failed; reconnecting")]
    private partial void LogListenFailed(Exception exception);
}
