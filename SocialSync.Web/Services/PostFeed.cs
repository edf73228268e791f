using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.Web.Services;

/// <summary>
/// The app's one WatchPosts stream (docs/api.md "Watching posts"), opened when the first page subscribes: pages
/// reload what they show when posts change, instead of polling. After a drop it reconnects with the last token it
/// received, so nothing committed meanwhile is missed; when it has no usable token (the first start, or one older
/// than the retained history) it tells every page to reload once the watch is open, which is the API's "list, then
/// watch".
/// </summary>
public sealed partial class PostFeed(PostWatchService.PostWatchServiceClient watch, ILogger<PostFeed> log) : IAsyncDisposable
{
    private static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly List<Func<Task>> _reloads = [];
    // At most one reload waiting: changes that arrive while pages reload cost one more reload, not one each.
    private readonly System.Threading.Channels.Channel<bool> _changed = System.Threading.Channels.Channel.CreateBounded<bool>(
        new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    /// <summary>True while the stream is open.</summary>
    public bool Connected { get; private set; }

    /// <summary>Calls <paramref name="reload"/> whenever posts may have changed, until the subscription is disposed.</summary>
    public IDisposable Subscribe(Func<Task> reload)
    {
        lock (_gate)
        {
            _reloads.Add(reload);
            _running ??= Task.WhenAll(WatchAsync(_stop.Token), DispatchAsync(_stop.Token));
        }
        return new Subscription(this, reload);
    }

    private async Task WatchAsync(CancellationToken stopping)
    {
        var token = "";
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                using var call = watch.WatchPosts(new WatchPostsRequest { ResumeToken = token }, cancellationToken: stopping);
                var fresh = token.Length == 0;
                await foreach (var message in call.ResponseStream.ReadAllAsync(stopping))
                {
                    Connected = true;
                    failures = 0;
                    if (message.Changes.Count > 0 || fresh)
                    {
                        _changed.Writer.TryWrite(true);
                        fresh = false;
                    }
                    token = message.ResumeToken;
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                // The token fell out of the retained history: watch from now, and the pages list again.
                LogTokenExpired();
                token = "";
                continue;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested && ex is RpcException or HttpRequestException or IOException)
            {
                LogDropped(ex);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            Connected = false;
            failures++;
            var delay = TimeSpan.FromMilliseconds(Math.Min(LongestRetryDelay.TotalMilliseconds, 500 * Math.Pow(2, Math.Min(failures, 6))));
            try
            {
                await Task.Delay(delay, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task DispatchAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var _ in _changed.Reader.ReadAllAsync(stopping))
            {
                Func<Task>[] reloads;
                lock (_gate)
                {
                    reloads = [.. _reloads];
                }
                foreach (var reload in reloads)
                {
                    try
                    {
                        await reload();
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogReloadFailed(ex);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running;
        }
        _stop.Dispose();
    }

    [LoggerMessage(1, LogLevel.Information, "The post watch dropped; reconnecting with the last token")]
    private partial void LogDropped(Exception ex);

    [LoggerMessage(2, LogLevel.Information, "The post watch's token is older than the retained history; watching from now and reloading")]
    private partial void LogTokenExpired();

    [LoggerMessage(3, LogLevel.Warning, "A page's reload after a post change failed")]
    private partial void LogReloadFailed(Exception ex);

    private sealed class Subscription(PostFeed feed, Func<Task> reload) : IDisposable
    {
        public void Dispose()
        {
            lock (feed._gate)
            {
                feed._reloads.Remove(reload);
            }
        }
    }
}
