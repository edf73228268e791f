namespace SocialSync.PublisherService.Webhooks;

/// <summary>
/// The statuses forwarded lately (wamid, status, recipient), so Meta's repeated deliveries of one status stop here.
/// Only an optimisation: recording in PostsService is idempotent, so a repeat that gets past (after a restart, or
/// from another replica) changes nothing either. Bounded: the oldest keys are forgotten first.
/// </summary>
public sealed class RecentDeliveries(int capacity)
{
    private readonly Lock _gate = new();
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Queue<string> _order = new();

    public bool Seen(string key)
    {
        lock (_gate)
        {
            return _keys.Contains(key);
        }
    }

    public void Remember(IEnumerable<string> keys)
    {
        lock (_gate)
        {
            foreach (var key in keys)
            {
                if (!_keys.Add(key))
                {
                    continue;
                }
                _order.Enqueue(key);
                while (_order.Count > Math.Max(1, capacity))
                {
                    _keys.Remove(_order.Dequeue());
                }
            }
        }
    }
}
