using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace SocialSync.Testing;

/// <summary>
/// A loopback HTTP server for the media tests (SocialSync.MediaInspection.Tests, PostsService.Tests): serves each named file with its Content-Type and an ETag (answering
/// If-None-Match with 304), redirects, and records the headers of every request it gets.
/// </summary>
public sealed class MediaServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (byte[] Bytes, string ContentType, int Version)> _files = new();

    public ConcurrentQueue<IHeaderDictionary> Requests { get; } = new();

    public int BodiesServed;

    public int Port { get; }

    private MediaServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public static async Task<MediaServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        MediaServer? server = null;
        app.Use(async (context, next) =>
        {
            server!.Requests.Enqueue(new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value)));
            await next();
        });
        app.MapGet("/m/{name}", (string name, HttpContext context) => server!.Serve(name, context));
        app.MapGet("/redirect", (string to) => Results.Redirect(to));
        await app.StartAsync();
        var port = new Uri(app.Urls.First()).Port;
        server = new MediaServer(app, port);
        return server;
    }

    /// <summary>Puts (or replaces) a file; its ETag changes with each version.</summary>
    public string Put(string name, byte[] bytes, string contentType)
    {
        _files.AddOrUpdate(name, _ => (bytes, contentType, 1), (_, old) => (bytes, contentType, old.Version + 1));
        return Url(name);
    }

    public string Url(string name, string host = "127.0.0.1") => $"http://{host}:{Port}/m/{name}";

    public string RedirectTo(string target, string host = "127.0.0.1") => $"http://{host}:{Port}/redirect?to={Uri.EscapeDataString(target)}";

    private IResult Serve(string name, HttpContext context)
    {
        if (!_files.TryGetValue(name, out var file))
        {
            return Results.NotFound();
        }
        var etag = $"\"{name}-v{file.Version}\"";
        context.Response.Headers.ETag = etag;
        if (context.Request.Headers.IfNoneMatch == etag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }
        Interlocked.Increment(ref BodiesServed);
        // Range requests are answered by the framework (206 with Content-Range), as a static file server does.
        return Results.Bytes(file.Bytes, file.ContentType, enableRangeProcessing: true);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
