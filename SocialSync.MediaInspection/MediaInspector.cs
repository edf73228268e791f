using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;

namespace SocialSync.MediaInspection;

/// <summary>
/// What a media URL holds now (<see cref="MediaFacts"/>), from a fetch of its first bytes. A URL whose server sent an
/// ETag is asked again with If-None-Match: a 304 answers from the cache without its bytes, any other answer is read
/// afresh, so a file that changed behind the same URL is seen. The cache is bounded (<see cref="MediaOptions.CacheEntries"/>).
/// </summary>
public sealed class MediaInspector(MediaFetcher fetcher, IOptions<MediaOptions> options) : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.CacheEntries) });

    private sealed record Cached(string ETag, MediaFacts Facts);

    /// <summary>The facts of <paramref name="url"/>; throws <see cref="MediaFetchException"/> when it cannot or may not be read.</summary>
    public async Task<MediaFacts> InspectAsync(string url, CancellationToken cancellationToken)
    {
        var cached = _cache.Get<Cached>(url);
        var fetched = await fetcher.FetchAsync(url, cached?.ETag, cancellationToken);
        if (fetched.NotModified && cached is not null)
        {
            return cached.Facts;
        }
        var facts = MediaFacts.Read(fetched);
        if (fetched.ETag is { } etag)
        {
            _cache.Set(url, new Cached(etag, facts), new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = TimeSpan.FromHours(1) });
        }
        else
        {
            _cache.Remove(url);
        }
        return facts;
    }

    /// <summary>The rule the media at <paramref name="url"/> breaks as <paramref name="target"/> (or why it cannot be read); null when it passes.</summary>
    public async Task<string?> CheckAsync(string url, MediaTarget target, CancellationToken cancellationToken)
    {
        try
        {
            return target.Check(await InspectAsync(url, cancellationToken));
        }
        catch (MediaFetchException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// The rules a post's media break on a channel of <paramref name="platform"/> in <paramref name="mode"/>, by media
    /// index, in order; empty when every item passes. The items are fetched at once (at most 10 per post).
    /// </summary>
    public async Task<IReadOnlyList<(int Index, string Rule)>> CheckContentAsync(Content content, Platform platform, InstagramMode mode,
        CancellationToken cancellationToken)
    {
        var checks = content.Media.Select((media, i) => (Index: i, Media: media, Target: MediaTarget.For(platform, mode, media.Type)))
            // A type the platform takes no media of is refused by the content rules already.
            .Where(c => c.Target is not null)
            .Select(async c => (c.Index, Rule: await CheckAsync(c.Media.Url, c.Target!, cancellationToken)));
        var results = await Task.WhenAll(checks);
        return [.. results.Where(r => r.Rule is not null).Select(r => (r.Index, r.Rule!))];
    }

    public void Dispose() => _cache.Dispose();
}

public static class MediaServiceCollectionExtensions
{
    /// <summary>The media inspector with its guarded HTTP client; settings from the <c>Media</c> section.</summary>
    public static IServiceCollection AddMediaInspector(this IServiceCollection services, Action<MediaOptions>? configure = null)
    {
        var options = services.AddOptions<MediaOptions>().BindConfiguration(MediaOptions.Section);
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.AddSingleton<MediaAddressGuard>();
        services.AddSingleton<MediaInspector>();
        services.AddTransient<MediaFetcher>();
        services.AddHttpClient(MediaFetcher.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => MediaFetcher.CreateHandler(sp.GetRequiredService<MediaAddressGuard>()));
        return services;
    }
}
