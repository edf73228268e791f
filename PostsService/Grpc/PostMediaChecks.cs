using Microsoft.Extensions.Options;
using SocialSync.MediaInspection;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Fetches and checks a post's media against its channel's platform rules (docs/media-rules.md) when
/// <c>Media:Checks</c> is on, so a file the platform would refuse fails at save time and not when its slot comes. A
/// bad item is INVALID_ARGUMENT naming <c>content.media[i].url</c> and the rule broken; a URL that cannot be fetched
/// (unreachable, an internal address, too slow) is refused the same way. It runs before the store's transaction (the
/// fetches take network time); a channel the caller cannot see is left to the store, which answers NOT_FOUND.
/// Every path that saves a post's content runs it: CreatePost, BatchCreatePosts, UpdatePost, AddToQueue,
/// CreatePostFromTemplate and ImportPosts (whose rows are checked by <see cref="BrokenRulesAsync"/>).
/// </summary>
public sealed class PostMediaChecks(MediaInspector inspector, ChannelStore channels, PostStore posts, IOptions<MediaOptions> options)
{
    public bool Enabled => options.Value.Checks;

    /// <summary>Checks the media of each create (CreatePost, BatchCreatePosts); all bad items are named together.</summary>
    public async Task CheckCreatesAsync(Guid userId, IReadOnlyList<NewPost> creates, CancellationToken cancellationToken)
    {
        if (!Enabled || creates.All(c => c.Request.Content.Media.Count == 0))
        {
            return;
        }
        var violations = new FieldViolations();
        var loaded = new Dictionary<Guid, Channel?>();
        foreach (var create in creates.Where(c => c.Request.Content.Media.Count > 0))
        {
            if (!loaded.TryGetValue(create.ChannelId, out var channel))
            {
                loaded[create.ChannelId] = channel = await channels.GetAsync(userId, create.ChannelId, cancellationToken);
            }
            if (channel is not null)
            {
                await CheckAsync(create.Request.Content, channel, create.Prefix + "content", violations, cancellationToken);
            }
        }
        violations.ThrowIfAny();
    }

    /// <summary>Checks an UpdatePost's new content when its media differ from the post's (same media: nothing is fetched).</summary>
    public async Task CheckEditAsync(Guid userId, PostEdit edit, CancellationToken cancellationToken)
    {
        if (!Enabled || !edit.Paths.Contains("content") || edit.Content is not { Media.Count: > 0 } content)
        {
            return;
        }
        var post = await posts.GetAsync(userId, edit.PostId, cancellationToken);
        if (post is null || post.Content.Media.Equals(content.Media)
            || await channels.GetAsync(userId, Guid.Parse(post.ChannelId), cancellationToken) is not { } channel)
        {
            return;
        }
        var violations = new FieldViolations();
        await CheckAsync(content, channel, "content", violations, cancellationToken);
        violations.ThrowIfAny();
    }

    /// <summary>The most posts of one call whose media are fetched at once (each post fetches its items together).</summary>
    private const int ConcurrentPosts = 8;

    /// <summary>
    /// The rules each of many posts' media break (an import's rows), as (item, "content.media[i].url", rule), every
    /// item checked; empty with the checks off. Posts are checked <see cref="ConcurrentPosts"/> at a time, and a URL
    /// repeated across rows is read from the inspector's cache while its ETag holds.
    /// </summary>
    public async Task<IReadOnlyList<(int Item, string Field, string Rule)>> BrokenRulesAsync(IReadOnlyList<(Content Content, Channel Channel)> items,
        CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return [];
        }
        var broken = new System.Collections.Concurrent.ConcurrentBag<(int, string, string)>();
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count).Where(i => items[i].Content.Media.Count > 0),
            new ParallelOptions { MaxDegreeOfParallelism = ConcurrentPosts, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var (content, channel) = items[i];
                var mode = channel.Settings?.InstagramMode ?? InstagramMode.Unspecified;
                foreach (var (index, rule) in await inspector.CheckContentAsync(content, channel.Platform, mode, token))
                {
                    broken.Add((i, $"content.media[{index}].url", rule));
                }
            });
        return [.. broken.OrderBy(b => b.Item1).ThenBy(b => b.Item2, StringComparer.Ordinal)];
    }

    private async Task CheckAsync(Content content, Channel channel, string field, FieldViolations violations, CancellationToken cancellationToken)
    {
        var mode = channel.Settings?.InstagramMode ?? InstagramMode.Unspecified;
        foreach (var (index, rule) in await inspector.CheckContentAsync(content, channel.Platform, mode, cancellationToken))
        {
            violations.Add($"{field}.media[{index}].url", rule);
        }
    }
}
