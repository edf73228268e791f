using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SocialSync.ServiceDefaults.Hosting;

public static class KestrelEndpoints
{
    /// <summary>
    /// Plain-http gRPC needs HTTP/2 with prior knowledge, which an Http1AndHttp2 endpoint cannot offer, so each
    /// service listens twice: GRPC_PORT (HTTP/2: gRPC) and HTTP_PORT (HTTP/1.1: gRPC-Web, JSON, health for curl).
    /// Without those variables the usual ASPNETCORE_URLS / Kestrel configuration applies. Either way every endpoint
    /// reads requests up to <see cref="RequestSizeLimits"/> only.
    /// </summary>
    public static WebApplicationBuilder UseGrpcAndHttpEndpoints(this WebApplicationBuilder builder)
    {
        var limits = RequestSizeLimits.From(builder.Configuration);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBytes);
        // The public limit for every gRPC service; the internal ones ask for more (AllowInternalMessages).
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.MaxReceiveMessageSize = limits.MaxRequestBytes);

        var grpcPort = builder.Configuration.GetValue<int?>("GRPC_PORT");
        var httpPort = builder.Configuration.GetValue<int?>("HTTP_PORT");
        if (grpcPort is null && httpPort is null)
        {
            return builder;
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (grpcPort is { } g)
            {
                kestrel.ListenLocalhost(g, o => o.Protocols = HttpProtocols.Http2);
            }
            if (httpPort is { } h)
            {
                kestrel.ListenLocalhost(h, o => o.Protocols = HttpProtocols.Http1);
            }
        });
        return builder;
    }
}
