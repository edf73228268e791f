using Microsoft.Net.Http.Headers;
using SocialSync.GraphApiEmulator.Control;

namespace SocialSync.GraphApiEmulator.MediaHosting;

/// <summary>
/// <c>PUT /__emu/media/{name}</c> (the body and its Content-Type become the file, a new version each time),
/// <c>GET /__emu/media/{name}</c> (the file, ranged, with its ETag; 304 when If-None-Match holds), <c>DELETE</c>, and
/// <c>GET /__emu/media/{name}/fetches</c> (every GET of it, in order).
/// </summary>
public static class MediaEndpoints
{
    /// <summary>The largest file a test may put (an Instagram reel may be 300 MB; the rules' size checks need only the headers).</summary>
    private const long MaxFileBytes = 64 * 1024 * 1024;

    public static RouteGroupBuilder MapEmulatorMedia(this RouteGroupBuilder emu)
    {
        emu.MapPut("/media/{name}", PutAsync);
        emu.MapGet("/media/{name}", Serve);
        emu.MapDelete("/media/{name}", (string name, MediaFiles files) => files.Remove(name) ? Results.NoContent() : Results.NotFound());
        emu.MapGet("/media/{name}/fetches", (string name, MediaFiles files) =>
        {
            var data = files.FetchesOf(name);
            return Results.Json(new { count = data.Count, data }, ControlEndpoints.Json);
        });
        return emu;
    }

    private static async Task<IResult> PutAsync(string name, HttpRequest request, MediaFiles files)
    {
        if (request.ContentLength is > MaxFileBytes)
        {
            throw new ControlException($"a media file may be at most {MaxFileBytes} bytes");
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
        var file = files.Put(name, body.ToArray(), request.ContentType ?? "application/octet-stream");
        var url = $"{request.Scheme}://{request.Host}/__emu/media/{Uri.EscapeDataString(name)}";
        return Results.Json(new { url, etag = MediaFiles.ETagOf(name, file), version = file.Version, size = file.Bytes.Length }, ControlEndpoints.Json);
    }

    private static IResult Serve(string name, HttpContext context, MediaFiles files)
    {
        var headers = context.Request.Headers;
        var file = files.Find(name);
        var etag = file is null ? null : MediaFiles.ETagOf(name, file);
        var status = file is null ? StatusCodes.Status404NotFound
            : headers.IfNoneMatch == etag ? StatusCodes.Status304NotModified
            : headers.Range.Count > 0 ? StatusCodes.Status206PartialContent
            : StatusCodes.Status200OK;
        files.Record(new MediaFetch(name, status, NullIfEmpty(headers.Range), NullIfEmpty(headers.IfNoneMatch),
            headers.ContainsKey(HeaderNames.Authorization), headers.ContainsKey(HeaderNames.Cookie)));
        if (file is null)
        {
            return Results.NotFound();
        }
        context.Response.Headers.ETag = etag;
        if (status == StatusCodes.Status304NotModified)
        {
            return Results.StatusCode(status);
        }
        // Ranges are answered by the framework (206 with Content-Range, the whole size after the slash), as a CDN does.
        return Results.Bytes(file.Bytes, file.ContentType, enableRangeProcessing: true);
    }

    private static string? NullIfEmpty(Microsoft.Extensions.Primitives.StringValues values) => values.Count == 0 ? null : values.ToString();
}
