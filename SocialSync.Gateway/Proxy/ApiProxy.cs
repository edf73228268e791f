using System.Net.Http.Headers;
using SocialSync.Gateway.Extensions;
using SocialSync.Gateway.Session;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms;

namespace SocialSync.Gateway.Proxy;

/// <summary>
/// The browser's way to the API: gRPC-Web (<c>/socialsync.*/{method}</c>) and REST (<c>/api/...</c>) proxied to
/// PostsService's HTTP/1.1 endpoint. A call from the web app carries the session cookie, and the gateway sends it on
/// with the session's access token instead; a call that brings its own bearer token (a script, <c>buf curl</c>) is
/// sent on as it is, for PostsService to judge.
/// </summary>
public static partial class ApiProxy
{
    private const string ClusterId = "posts-service";
    private const string AccessTokenItem = "socialsync.access-token";

    public static void AddApiProxy(this WebApplicationBuilder builder, GatewayOptions options)
    {
        builder.Services.AddSingleton<SessionTokens>();
        builder.Services.AddHttpClient(nameof(SessionTokens));
        builder.Services.AddReverseProxy()
            .LoadFromMemory(
                [
                    // The public services only: the services' internal ones (PostsInternalService, ...) are never
                    // reachable from a browser, whatever PostsService would answer.
                    new RouteConfig
                    {
                        RouteId = "grpc-web",
                        ClusterId = ClusterId,
                        Match = new RouteMatch { Path = "/{service:regex(^socialsync\\.(?!.*Internal))}/{method}", Methods = ["POST"] },
                    },
                    new RouteConfig { RouteId = "rest", ClusterId = ClusterId, Match = new RouteMatch { Path = "/api/{**path}" } },
                ],
                [
                    new ClusterConfig
                    {
                        ClusterId = ClusterId,
                        Destinations = new Dictionary<string, DestinationConfig> { ["posts"] = new() { Address = options.PostsService } },
                        // PostsService's gRPC-Web and REST endpoint speaks HTTP/1.1 only (docs/architecture.md).
                        HttpRequest = new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig { Version = System.Net.HttpVersion.Version11 },
                    },
                ])
            .AddServiceDiscoveryDestinationResolver()
            .AddTransforms(transforms => transforms.AddRequestTransform(context =>
            {
                // The session cookie is the gateway's alone: PostsService never sees it.
                context.ProxyRequest.Headers.Remove("Cookie");
                if (context.HttpContext.Items[AccessTokenItem] is string token)
                {
                    context.ProxyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }
                return ValueTask.CompletedTask;
            }));
    }

    public static void MapApiProxy(this WebApplication app) =>
        app.MapReverseProxy(proxy => proxy.Use(async (context, next) =>
        {
            if (context.Request.Headers.Authorization.Count > 0)
            {
                await next();
                return;
            }
            // No credentials at all is 401, whatever else the call lacks.
            if (!context.Request.Cookies.Keys.Any(name => name.StartsWith(BrowserSession.CookieName, StringComparison.Ordinal)))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && !context.Request.Headers.ContainsKey(BrowserSession.AntiforgeryHeader))
            {
                LogForgeryRefused(app.Logger, context.Request.Path);
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync($"A call that uses the session must carry the {BrowserSession.AntiforgeryHeader} header.");
                return;
            }
            var token = await context.RequestServices.GetRequiredService<SessionTokens>().GetAccessTokenAsync(context);
            if (token is null)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            context.Items[AccessTokenItem] = token;
            await next();
        }));

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "A call to {Path} with the session but without the antiforgery header was refused")]
    private static partial void LogForgeryRefused(ILogger logger, PathString path);
}
