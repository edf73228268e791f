using System.Collections;
using Microsoft.Extensions.Logging;

namespace SocialSync.ServiceDefaults.Telemetry;

/// <summary>
/// A log scope naming the post (and attempt) being handled, so every line written while handling it carries
/// PostId and Attempt as structured attributes (OpenTelemetry logs include scopes).
/// </summary>
public static class PostLogScope
{
    public static IDisposable? BeginPostScope(this ILogger logger, string postId, int attempt = 0) =>
        logger.BeginScope(new Scope(postId, attempt));

    private sealed class Scope(string postId, int attempt) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => attempt > 0 ? 2 : 1;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("PostId", postId),
            1 when attempt > 0 => new("Attempt", attempt),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => attempt > 0 ? $"Post {postId} attempt {attempt}" : $"Post {postId}";
    }
}
