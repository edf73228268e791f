using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace SocialSync.MediaInspection;

/// <summary>A media URL that could not be read, or may not be: the reason is said to the user (it names no internal detail).</summary>
public sealed class MediaFetchException(string reason) : Exception(reason);

/// <summary>What one fetch read: the response's first bytes and what its headers say, or that the cached ETag still holds.</summary>
public sealed record FetchedMedia(byte[] FirstBytes, string? ContentType, long? Size, string? ETag, bool NotModified);

/// <summary>
/// Reads a media URL's headers and first bytes (one ranged GET: the head and the bytes the rules need in one round
/// trip) under a time limit and a byte cap. Only http(s); no cookies, no credentials, no proxy; redirects are followed
/// here, each hop checked again; every connection goes to the address <see cref="MediaAddressGuard"/> resolved and
/// checked, so DNS cannot change it between the check and the connect.
/// </summary>
public sealed class MediaFetcher(IHttpClientFactory clients, IOptions<MediaOptions> options)
{
    public const string ClientName = "media-fetch";

    private static readonly HashSet<HttpStatusCode> Redirects =
        [HttpStatusCode.MovedPermanently, HttpStatusCode.Found, HttpStatusCode.SeeOther, HttpStatusCode.TemporaryRedirect, HttpStatusCode.PermanentRedirect];

    /// <summary>The handler every media fetch uses: no automatic redirects, cookies, credentials or proxy.</summary>
    public static SocketsHttpHandler CreateHandler(MediaAddressGuard guard) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        Credentials = null,
        PreAuthenticate = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectCallback = guard.ConnectAsync,
    };

    public async Task<FetchedMedia> FetchAsync(string url, string? cachedETag, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(settings.Timeout);
        var client = clients.CreateClient(ClientName);
        var current = ParseHttpUrl(url);
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            request.Headers.Range = new RangeHeaderValue(0, settings.MaxBytes - 1);
            if (cachedETag is not null && EntityTagHeaderValue.TryParse(cachedETag, out var etag))
            {
                request.Headers.IfNoneMatch.Add(etag);
            }
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                if (Redirects.Contains(response.StatusCode))
                {
                    if (hop >= settings.MaxRedirects)
                    {
                        throw new MediaFetchException($"redirects more than {settings.MaxRedirects} times");
                    }
                    current = response.Headers.Location is { } location
                        ? ParseHttpUrl(new Uri(current, location).AbsoluteUri)
                        : throw new MediaFetchException("redirects without a Location");
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    return new FetchedMedia([], null, null, cachedETag, NotModified: true);
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw new MediaFetchException($"could not be fetched (HTTP {(int)response.StatusCode})");
                }
                var bytes = await ReadCappedAsync(response.Content, settings.MaxBytes, deadline.Token);
                return new FetchedMedia(
                    bytes,
                    response.Content.Headers.ContentType?.MediaType,
                    TotalSize(response, bytes.Length, settings.MaxBytes),
                    response.Headers.ETag?.ToString(),
                    NotModified: false);
            }
            catch (HttpRequestException ex) when (ex.InnerException is MediaFetchException refused)
            {
                throw refused;
            }
            catch (HttpRequestException)
            {
                throw new MediaFetchException("could not be fetched (the connection failed)");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new MediaFetchException($"could not be fetched within {settings.Timeout.TotalSeconds:0.#} s");
            }
        }
    }

    private static Uri ParseHttpUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new MediaFetchException("must be an http(s) URL");
        }
        // A user name or password in the URL would be sent as credentials; a media fetch never sends any.
        return uri.UserInfo.Length == 0 ? uri : throw new MediaFetchException("must not carry a user name or password");
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes];
        var read = 0;
        while (read < maxBytes)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        return buffer[..read];
    }

    /// <summary>The whole file's size: from Content-Range (a ranged answer), Content-Length, or the bytes when they ended before the cap.</summary>
    private static long? TotalSize(HttpResponseMessage response, int read, int maxBytes) =>
        response.Content.Headers.ContentRange?.Length
        ?? (response.StatusCode == HttpStatusCode.OK ? response.Content.Headers.ContentLength : null)
        ?? (read < maxBytes ? read : null);
}

/// <summary>
/// Resolves a media host once and connects to the address it checked, refusing internal addresses
/// (<see cref="AddressRules"/>) unless the allow-list names the host or the address (the local emulator, tests).
/// </summary>
public sealed class MediaAddressGuard(IOptions<MediaOptions> options)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await ResolveAsync(host, cancellationToken);
        var allowList = options.Value.AllowedHosts;
        var hostAllowed = allowList.Contains(host, StringComparer.OrdinalIgnoreCase);
        foreach (var address in addresses)
        {
            // Every address the name has is checked: one internal address among public ones is refused too.
            if (!hostAllowed && AddressRules.IsInternal(address) && !InAllowedRange(address, allowList))
            {
                throw new MediaFetchException("is refused: its host is an internal address");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(addresses[0], context.DnsEndPoint.Port), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
            return addresses.Length > 0 ? addresses : throw new MediaFetchException("could not be fetched: its host does not resolve");
        }
        catch (SocketException)
        {
            throw new MediaFetchException("could not be fetched: its host does not resolve");
        }
    }

    private static bool InAllowedRange(IPAddress address, IEnumerable<string> allowList)
    {
        var candidate = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var entry in allowList)
        {
            if (IPNetwork.TryParse(entry, out var range) && range.Contains(candidate))
            {
                return true;
            }
            if (IPAddress.TryParse(entry, out var single) && single.Equals(candidate))
            {
                return true;
            }
        }
        return false;
    }
}
