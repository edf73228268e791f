using System.Threading.RateLimiting;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Limits;

/// <summary>
/// The per-user buckets of <see cref="RateLimitOptions"/>: one for every public call, one for posts created. A call
/// over a limit is refused at once (no queueing), with the time after which the same call would pass.
/// </summary>
public sealed class UserRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<Guid> _requests;
    private readonly PartitionedRateLimiter<Guid> _creates;

    public UserRateLimits(RateLimitOptions options)
    {
        Options = options;
        _requests = PerUser(options.RequestBurst, options.RequestsPerPeriod, options.Period);
        _creates = PerUser(options.CreateBurst, options.CreatesPerPeriod, options.Period);
    }

    public RateLimitOptions Options { get; }

    /// <summary>Takes one call from <paramref name="userId"/>'s request bucket, or throws <see cref="RateLimitExceededException"/>.</summary>
    public void TakeRequest(Guid userId) =>
        Take(_requests, userId, 1, $"{RateLimitOptions.SectionName}:{nameof(RateLimitOptions.RequestsPerPeriod)}");

    /// <summary>Takes <paramref name="posts"/> creates (at most <see cref="RateLimitOptions.MaxBatchCreate"/>) from the user's create bucket, all or none.</summary>
    public void TakeCreates(Guid userId, int posts) =>
        Take(_creates, userId, posts, $"{RateLimitOptions.SectionName}:{nameof(RateLimitOptions.CreatesPerPeriod)}");

    /// <summary>
    /// Takes <paramref name="posts"/> creates (at most <see cref="RateLimitOptions.MaxBatchCreate"/>) for work that
    /// runs on after its call has been answered (an import's chunks): waits for the bucket to refill instead of
    /// refusing. A refill can take longer than the work may go without a sign of life (an import's lease), so the wait
    /// is cut into pieces of at most <paramref name="maxWait"/>, each preceded by <paramref name="keepWaiting"/>
    /// (which renews the lease). False, with nothing taken, when <paramref name="keepWaiting"/> answers false.
    /// </summary>
    public async Task<bool> TakeCreatesWaitingAsync(Guid userId, int posts, TimeSpan maxWait, Func<CancellationToken, Task<bool>> keepWaiting,
        TimeProvider time, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                TakeCreates(userId, posts);
                return true;
            }
            catch (RateLimitExceededException refused)
            {
                if (!await keepWaiting(cancellationToken))
                {
                    return false;
                }
                await Task.Delay(refused.RetryAfter < maxWait ? refused.RetryAfter : maxWait, time, cancellationToken);
            }
        }
    }

    private void Take(PartitionedRateLimiter<Guid> limiter, Guid userId, int permits, string setting)
    {
        using var lease = limiter.AttemptAcquire(userId, permits);
        if (!lease.IsAcquired)
        {
            // A bucket always names its wait; the period is the fallback should a limiter ever not.
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : Options.Period;
            throw new RateLimitExceededException(setting, retryAfter);
        }
    }

    private static PartitionedRateLimiter<Guid> PerUser(int burst, int perPeriod, TimeSpan period) =>
        PartitionedRateLimiter.Create<Guid, Guid>(userId => RateLimitPartition.GetTokenBucketLimiter(userId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public void Dispose()
    {
        _requests.Dispose();
        _creates.Dispose();
    }
}
