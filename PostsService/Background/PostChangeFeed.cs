using System.Collections.Concurrent;
using System.Threading.Channels;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Background;

/// <summary>Settings of WatchPosts (section "Watch").</summary>
public sealed class WatchOptions
{
    public const string SectionName = "Watch";

    /// <summary>How long post changes are kept: a resume token older than this is FAILED_PRECONDITION.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often a stream sends a keep-alive message when nothing changed: below the gateway's and browsers' idle
    /// timeouts, so an idle watch is not cut.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often, while any watch is open, the process looks for changes committed by others (another replica, the
    /// engine's outcomes); a change made through this process wakes the feed at once.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often changes older than <see cref="Retention"/> are deleted.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// Wakes this process's open watches when changes of their workspaces become readable. One query per poll for all
/// of them (<see cref="PostChangeStore.PollAsync"/>), run only while a watch is open, and woken at once by this
/// process's own writes (<see cref="ScheduleChangeNotifier"/>). Not LISTEN/NOTIFY: NOTIFY would serialize the
/// commits of every create (0007_outbox_without_notify.sql), and a change becomes readable only when every older
/// transaction has ended, which no notification tells.
/// </summary>
public sealed partial class PostChangeFeed(
    PostChangeStore changes, ScheduleChangeNotifier writes, WatchOptions options, TimeProvider time, ILogger<PostChangeFeed> log)
    : BackgroundService
{
    private readonly ConcurrentDictionary<Subscription, byte> _subscriptions = new();
    private readonly TimeProvider _time = time;

    /// <summary>Wakes the subscription when a change of one of <paramref name="workspaces"/> may be readable.</summary>
    public Subscription Subscribe(IReadOnlyCollection<Guid> workspaces)
    {
        var subscription = new Subscription(this, workspaces.ToHashSet());
        _subscriptions[subscription] = 0;
        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        long? from = null;
        var nextPrune = _time.GetUtcNow();
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_time.GetUtcNow() >= nextPrune)
                {
                    nextPrune = _time.GetUtcNow() + options.PruneInterval;
                    var pruned = await changes.PruneAsync(_time.GetUtcNow() - options.Retention, stoppingToken);
                    if (pruned > 0)
                    {
                        LogPruned(pruned, options.Retention);
                    }
                }
                if (_subscriptions.IsEmpty)
                {
                    from = null;
                }
                else
                {
                    var (xmin, changed) = await changes.PollAsync(from, stoppingToken);
                    from = xmin;
                    if (changed.Length > 0)
                    {
                        foreach (var subscription in _subscriptions.Keys)
                        {
                            subscription.WakeIfAny(changed);
                        }
                    }
                }
                failures = 0;
                await writes.WaitAsync(options.PollInterval, _time, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The watches' own keep-alive reads still deliver meanwhile; back off while the database is away.
                failures++;
                LogPollFailed(ex);
                await Task.Delay(options.PollInterval * Math.Min(failures, 20), _time, stoppingToken);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Looking for post changes failed")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(2, LogLevel.Information, "Pruned {Count} post changes older than {Retention}")]
    private partial void LogPruned(int count, TimeSpan retention);

    /// <summary>One watch's wake-ups: at most one pending, so a burst of changes costs the watch one read.</summary>
    public sealed class Subscription(PostChangeFeed feed, HashSet<Guid> workspaces) : IDisposable
    {
        private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        internal void WakeIfAny(Guid[] changed)
        {
            if (changed.Any(workspaces.Contains))
            {
                _wakes.Writer.TryWrite(true);
            }
        }

        /// <summary>Completes when woken (or when it was woken since the last wait), or after <paramref name="timeout"/>.</summary>
        public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (_wakes.Reader.TryRead(out _))
            {
                return;
            }
            using var timeoutSource = new CancellationTokenSource(timeout, feed._time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource.Token);
            try
            {
                await _wakes.Reader.ReadAsync(either.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The timeout: the caller's keep-alive is due.
            }
        }

        public void Dispose() => feed._subscriptions.TryRemove(this, out _);
    }
}
