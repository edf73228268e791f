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
/// </summary>
public sealed class PostMediaChecks(MediaInspector inspector, ChannelStore channels, PostStore posts, IOptions<MediaOptions> options)
{
    /// <summary>How many media URLs of one request are fetched at once.</summary>
    private const int ParallelFetches = 8;

    public bool Enabled => options.Value.Checks;

    /// <summary>Checks the media of each create (CreatePost, BatchCreatePosts); all bad items are named together.</summary>
    public async Task CheckCreatesAsync(Guid userId, IReadOnlyList<NewPost> creates, CancellationToken cancellationToken)
    {
        if (!Enabled || creates.All(c => c.Request.Content.Media.Count == 0))
        {
            return;
        }
        var items = new List<(string Field, string Url, MediaTarget Target)>();
        var loaded = new Dictionary<Guid, Channel?>();
        foreach (var create in creates.Where(c => c.Request.Content.Media.Count > 0))
        {
            if (!loaded.TryGetValue(create.ChannelId, out var channel))
            {
                loaded[create.ChannelId] = channel = await channels.GetAsync(userId, create.ChannelId, cancellationToken);
            }
            if (channel is not null)
            {
                items.AddRange(Targets(create.Request.Content, channel, create.Prefix + "content"));
            }
        }
        await CheckAsync(items, cancellationToken);
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
        await CheckAsync(Targets(content, channel, "content").ToList(), cancellationToken);
    }

    /// <summary>The first rule <paramref name="content"/>'s media break on <paramref name="channel"/> now, as "content.media[i].url: rule"; null when none.</summary>
    public async Task<FieldViolation?> FirstBrokenAsync(Content content, Channel channel, CancellationToken cancellationToken)
    {
        var violations = await ViolationsAsync(Targets(content, channel, "content").ToList(), cancellationToken);
        return violations.All.FirstOrDefault();
    }

    private static IEnumerable<(string Field, string Url, MediaTarget Target)> Targets(Content content, Channel channel, string field)
    {
        var mode = channel.Settings?.InstagramMode ?? InstagramMode.Unspecified;
        for (var i = 0; i < content.Media.Count; i++)
        {
            // A type the platform takes no media of is already refused by the content rules.
            if (MediaTarget.For(channel.Platform, mode, content.Media[i].Type) is { } target)
            {
                yield return ($"{field}.media[{i}].url", content.Media[i].Url, target);
            }
        }
    }

    private async Task CheckAsync(List<(string Field, string Url, MediaTarget Target)> items, CancellationToken cancellationToken) =>
        (await ViolationsAsync(items, cancellationToken)).ThrowIfAny();

    private async Task<FieldViolations> ViolationsAsync(List<(string Field, string Url, MediaTarget Target)> items, CancellationToken cancellationToken)
    {
        var broken = new string?[items.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count),
            new ParallelOptions { MaxDegreeOfParallelism = ParallelFetches, CancellationToken = cancellationToken },
            async (i, token) => broken[i] = await inspector.CheckAsync(items[i].Url, items[i].Target, token));
        var violations = new FieldViolations();
        for (var i = 0; i < items.Count; i++)
        {
            if (broken[i] is { } rule)
            {
                violations.Add(items[i].Field, rule);
            }
        }
        return violations;
    }
}
