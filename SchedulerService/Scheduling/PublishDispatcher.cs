using Grpc.Core;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.Publisher.V1;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Hands claimed posts to PublisherService in batches with bounded concurrency. The queue is bounded too: when
/// the platform is slow it fills and the claimers wait, so nothing is claimed faster than it can be published.
/// A batch whose call fails stays claimed in PostgreSQL and comes back when its lease expires: never lost, never
/// sent twice. A graceful stop releases the claims it still holds (ReleaseClaims, fenced by attempt), so another
/// scheduler claims them at once instead of after their lease.
/// </summary>
public sealed partial class PublishDispatcher : BackgroundService
{
    /// <summary>Claims per ReleaseClaims call when a stop hands many back.</summary>
    private const int ReleaseChunk = 5000;

    private readonly System.Threading.Channels.Channel<(ClaimedPost Post, TimeSpan Lease)> _queue;
    // Claims taken out of the queue (or never put in it) whose publish call a stop cut short: released on stop with
    // the rest. A claim whose call did reach a publisher has a run by then, and ReleaseClaims leaves it alone.
    private readonly System.Collections.Concurrent.ConcurrentQueue<ClaimedPost> _interrupted = new();
    private readonly PostsInternalService.PostsInternalServiceClient _posts;
    private readonly PublisherService.PublisherServiceClient _publisher;
    private readonly SchedulerOptions _options;
    private readonly SchedulerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger<PublishDispatcher> _log;

    public PublishDispatcher(PostsInternalService.PostsInternalServiceClient posts, PublisherService.PublisherServiceClient publisher,
        IOptions<SchedulerOptions> options, SchedulerState state, TimeProvider time, ILogger<PublishDispatcher> log)
    {
        _posts = posts;
        _publisher = publisher;
        _options = options.Value;
        _state = state;
        _time = time;
        _log = log;
        _queue = System.Threading.Channels.Channel.CreateBounded<(ClaimedPost, TimeSpan)>(new System.Threading.Channels.BoundedChannelOptions(_options.DispatchQueueCapacity)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.Wait,
            SingleWriter = false,
        });
    }

    public int Pending => _queue.Reader.Count;

    /// <summary>
    /// Queues claimed posts for publishing. A publish call waits at most one <paramref name="lease"/>: a post that
    /// waited here past its lease may still start (StartRuns renews a lease not yet recovered) or be fenced out.
    /// </summary>
    public async ValueTask EnqueueAsync(IEnumerable<ClaimedPost> posts, TimeSpan lease, CancellationToken cancellationToken)
    {
        var pending = new Queue<ClaimedPost>(posts);
        try
        {
            while (pending.TryPeek(out var post))
            {
                await _queue.Writer.WriteAsync((post, lease), cancellationToken);
                pending.Dequeue();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping while the queue was full: these claims are released with the queued ones.
            foreach (var post in pending)
            {
                _interrupted.Enqueue(post);
            }
            throw;
        }
    }

    /// <summary>
    /// Stops the workers (the claimers, registered after this service, have stopped already), then releases every
    /// claim still here: those queued and those whose publish call the stop cut short.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        var unsent = new List<ClaimedPost>(_queue.Reader.Count + _interrupted.Count);
        while (_queue.Reader.TryRead(out var queued))
        {
            unsent.Add(queued.Post);
        }
        while (_interrupted.TryDequeue(out var interrupted))
        {
            unsent.Add(interrupted);
        }
        await ReleaseAsync(unsent, cancellationToken);
    }

    private async Task ReleaseAsync(List<ClaimedPost> unsent, CancellationToken cancellationToken)
    {
        foreach (var chunk in unsent.Chunk(ReleaseChunk))
        {
            var request = new ReleaseClaimsRequest();
            request.Claims.AddRange(chunk.Select(p => new ClaimToRelease { PostId = p.PostId, Attempt = p.Attempt }));
            try
            {
                var response = await _posts.ReleaseClaimsAsync(request, deadline: _time.GetUtcNow().UtcDateTime.AddSeconds(10),
                    cancellationToken: cancellationToken);
                LogReleased(response.Released, chunk.Length);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                LogReleaseFailed(ex, chunk.Length);
                return;
            }
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, _options.MaxConcurrentPublishCalls).Select(_ => WorkAsync(stoppingToken)));

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(ClaimedPost Post, TimeSpan Lease)>(_options.PublishBatchSize);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < _options.PublishBatchSize && _queue.Reader.TryRead(out var post))
            {
                batch.Add(post);
            }
            if (batch.Count == 0)
            {
                continue;
            }
            var request = new PublishPostsRequest();
            request.Posts.AddRange(batch.Select(p => p.Post));
            try
            {
                _state.PostsDispatched(batch.Count);
                await _publisher.PublishPostsAsync(request,
                    deadline: _time.GetUtcNow().UtcDateTime + batch.Max(p => p.Lease), cancellationToken: stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPublishCallFailed(batch.Count, ex.Message);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                // Cut short by a stop: whatever the publisher did not start is released with the queue.
                foreach (var (post, _) in batch)
                {
                    _interrupted.Enqueue(post);
                }
                throw;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "A publish call for {Count} posts failed; their leases will bring them back: {Reason}")]
    private partial void LogPublishCallFailed(int count, string reason);

    [LoggerMessage(2, LogLevel.Information, "Stopping: released {Released} of {Count} claims not handed over, for another scheduler to claim at once")]
    private partial void LogReleased(int released, int count);

    [LoggerMessage(3, LogLevel.Warning, "Stopping: could not release {Count} claims; their leases will bring them back")]
    private partial void LogReleaseFailed(Exception exception, int count);
}
