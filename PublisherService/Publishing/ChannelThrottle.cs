using System.Collections.Concurrent;

namespace SocialSync.PublisherService.Publishing;

/// <summary>
/// Channels the platform has rate-limited, and until when. Posts for a throttled channel are deferred without a
/// platform call, so one 429 slows that channel down instead of hammering Meta and prolonging the block. Replicas
/// share it through PostsService: a deferred outcome says the channel was limited, and each run's channel carries
/// the limit back (<c>ChannelAccess.rate_limited_until</c>), whichever replica met it.
/// </summary>
public sealed class ChannelThrottle(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new();

    public DateTimeOffset? HeldUntil(string channelId)
    {
        if (_until.TryGetValue(channelId, out var until))
        {
            if (until > time.GetUtcNow())
            {
                return until;
            }
            _until.TryRemove(new KeyValuePair<string, DateTimeOffset>(channelId, until));
        }
        return null;
    }

    public void Hold(string channelId, DateTimeOffset until) =>
        _until.AddOrUpdate(channelId, until, (_, existing) => existing > until ? existing : until);
}
