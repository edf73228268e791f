using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Publishing;

/// <summary>
/// Reports outcomes to PostsService, retrying while it is unreachable: an outcome that never arrives turns into a
/// lease expiry and a reconciliation, so it is worth a minute of trying.
/// </summary>
public sealed partial class OutcomeReporter(PostsInternalService.PostsInternalServiceClient posts, TimeProvider time, ILogger<OutcomeReporter> log)
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(90);

    public async Task ReportAsync(IReadOnlyCollection<PublishOutcome> outcomes, CancellationToken cancellationToken)
    {
        if (outcomes.Count == 0)
        {
            return;
        }
        var request = new ReportOutcomesRequest();
        request.Outcomes.AddRange(outcomes);
        var giveUpAt = time.GetUtcNow() + GiveUpAfter;
        for (var failures = 1; ; failures++)
        {
            try
            {
                await posts.ReportOutcomesAsync(request, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown
                                          && time.GetUtcNow() < giveUpAt && !cancellationToken.IsCancellationRequested)
            {
                LogReportRetry(outcomes.Count, failures, ex.Status.Detail);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * Math.Pow(2, failures))), time, cancellationToken);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Reporting {Count} outcomes failed ({Failures} times); retrying: {Reason}")]
    private partial void LogReportRetry(int count, int failures, string reason);
}
