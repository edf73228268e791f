using System.Collections.Concurrent;

namespace SocialSync.GraphApiEmulator.MediaHosting;

/// <summary>
/// Media files the tests put under <c>/__emu/media/{name}</c> (real JPEG, PNG, WebP, MP4, OGG bytes they generate),
/// served like a CDN serves a post's media: with a Content-Type, an ETag that changes with each version, ranges and
/// 304 to If-None-Match. A file may be replaced, so the media behind a URL can change after a post was saved.
/// Every fetch is recorded with the headers SocialSync's media checks must (Range) and must not (credentials) send.
/// </summary>
public sealed class MediaFiles
{
    private readonly ConcurrentDictionary<string, MediaFile> _files = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<MediaFetch> _fetches = new();

    public MediaFile Put(string name, byte[] bytes, string contentType) =>
        _files.AddOrUpdate(name, _ => new MediaFile(bytes, contentType, 1), (_, old) => new MediaFile(bytes, contentType, old.Version + 1));

    public MediaFile? Find(string name) => _files.GetValueOrDefault(name);

    public bool Remove(string name) => _files.TryRemove(name, out _);

    public void Record(MediaFetch fetch) => _fetches.Enqueue(fetch);

    public IReadOnlyList<MediaFetch> FetchesOf(string name) => [.. _fetches.Where(f => f.Name == name)];

    public void Clear()
    {
        _files.Clear();
        _fetches.Clear();
    }

    public static string ETagOf(string name, MediaFile file) => $"\"{name}-v{file.Version}\"";
}

public sealed record MediaFile(byte[] Bytes, string ContentType, int Version);

/// <summary>One GET of a media file: what was asked (range, cached ETag, whether credentials came along) and the status answered.</summary>
public sealed record MediaFetch(string Name, int Status, string? Range, string? IfNoneMatch, bool SentAuthorization, bool SentCookie);
