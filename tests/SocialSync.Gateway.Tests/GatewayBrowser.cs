using System.Net;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace SocialSync.Gateway.Tests;

/// <summary>
/// What a browser does at the gateway, and no more: it keeps the cookies it is given (and sends them back), follows
/// nothing by itself, and calls the API with gRPC-Web or REST the way the web app does (the antiforgery header on).
/// </summary>
public sealed class GatewayBrowser : IDisposable
{
    /// <summary>The header the web app puts on every call, which a cross-site form or script cannot (docs/gateway.md).</summary>
    public const string AntiforgeryHeader = "X-CSRF";

    private readonly HttpClientHandler _handler;
    private readonly HttpClient _http;

    public GatewayBrowser(Uri gateway, string email)
    {
        Gateway = gateway;
        Email = email;
        _handler = new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false };
        _http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = gateway };
    }

    public Uri Gateway { get; }

    public string Email { get; }

    public CookieContainer Cookies { get; } = new();

    /// <summary>The Set-Cookie headers that started the session (their attributes, which a cookie jar does not keep).</summary>
    public IReadOnlyList<string> SessionCookieHeaders { get; set; } = [];

    /// <summary>The same browser (its cookies copied) calling another gateway: as a load balancer sends a request to another replica.</summary>
    public GatewayBrowser At(Uri otherGateway)
    {
        var moved = new GatewayBrowser(otherGateway, Email) { SessionCookieHeaders = SessionCookieHeaders };
        moved.Cookies.Add(Cookies.GetAllCookies());
        return moved;
    }

    public Task<HttpResponseMessage> GetAsync(string pathAndQuery) => _http.GetAsync(pathAndQuery);

    /// <summary>A request as the web app's code sends it: with the antiforgery header unless told otherwise.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, bool antiforgery = true)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        if (antiforgery)
        {
            request.Headers.Add(AntiforgeryHeader, "1");
        }
        return _http.SendAsync(request);
    }

    /// <summary>A gRPC-Web channel to the gateway that carries this browser's cookies (and the antiforgery header unless told otherwise).</summary>
    public GrpcChannel GrpcWeb(bool antiforgery = true) => GrpcChannel.ForAddress(Gateway, new GrpcChannelOptions
    {
        HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HeaderHandler(antiforgery) { InnerHandler = _handler }),
        HttpVersion = HttpVersion.Version11,
        HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        DisposeHttpClient = false,
    });

    public void Dispose()
    {
        _http.Dispose();
        _handler.Dispose();
    }

    private sealed class HeaderHandler(bool antiforgery) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (antiforgery)
            {
                request.Headers.Add(AntiforgeryHeader, "1");
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
