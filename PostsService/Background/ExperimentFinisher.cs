using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Background;

/// <summary>
/// Finishes the experiments whose window has passed and whose variants all settled (<see cref="ExperimentStore.FinishDueAsync"/>):
/// the result, the winner post for the holdout, the <c>experiment.finished</c> event. Every replica may run it: each
/// finish claims its row with <c>for update skip locked</c> and only while unfinished.
/// </summary>
public sealed partial class ExperimentFinisher(
    ExperimentStore experiments, ExperimentOptions options, ScheduleChangeNotifier scheduleChanges, TimeProvider time, ILogger<ExperimentFinisher> log)
    : BackgroundService
{
    /// <summary>At most this many finishes per tick, so a backlog does not hold one loop for long.</summary>
    private const int MaxPerTick = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CheckInterval, time);
        do
        {
            try
            {
                await FinishDueAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogFinishFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task FinishDueAsync(CancellationToken stoppingToken)
    {
        for (var i = 0; i < MaxPerTick; i++)
        {
            if (await experiments.FinishDueAsync(time.GetUtcNow(), stoppingToken) is not { } finished)
            {
                return;
            }
            LogFinished(finished.Id, finished.WinnerLabel, finished.WinnerPostId, finished.SampleTooSmall);
            if (finished.WinnerPostId is not null)
            {
                scheduleChanges.Pulse();
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Experiment {ExperimentId} finished: winner {WinnerLabel}, winner post {WinnerPostId}, sample too small {SampleTooSmall}")]
    private partial void LogFinished(Guid experimentId, string winnerLabel, Guid? winnerPostId, bool sampleTooSmall);

    [LoggerMessage(2, LogLevel.Warning, "Finishing experiments failed")]
    private partial void LogFinishFailed(Exception ex);
}
