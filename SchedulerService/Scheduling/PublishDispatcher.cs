using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.Publisher.V1;

namespace SocialSync.SchedulerService.Scheduling;

/// <summary>
/// Hands claimed posts to PublisherService in batches with bounded concurrency. The queue is bounded too: when
/// the platform is slow it fills and the claimers wait, so nothing is claimed faster than it can be published.
/// A batch whose call fails stays claimed in PostgreSQL and comes back when its lease expires: never lost, never
/// sent twice.
/// </summary>
public sealed partial class PublishDispatcher : BackgroundService
{
    private readonly System.Threading.Channels.Channel<(ClaimedPost Post, TimeSpan Lease)> _queue;
    private readonly PublisherService.PublisherServiceClient _publisher;
    private readonly SchedulerOptions _options;
    private readonly SchedulerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger<PublishDispatcher> _log;

    public PublishDispatcher(PublisherService.PublisherServiceClient publisher, IOptions<SchedulerOptions> options,
        SchedulerState state, TimeProvider time, ILogger<PublishDispatcher> log)
    {
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
        foreach (var post in posts)
        {
            await _queue.Writer.WriteAsync((post, lease), cancellationToken);
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
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "A publish call for {Count} posts failed; their leases will bring them back: {Reason}")]
    private partial void LogPublishCallFailed(int count, string reason);
}
