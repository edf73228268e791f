using Grpc.Core;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.ServiceDefaults.Hosting;

public static class InternalGrpcClients
{
    /// <summary>
    /// A client for another SocialSync service, found by service discovery at http://_grpc.{service} (its HTTP/2
    /// endpoint), carrying a service token. It retries only UNAVAILABLE; every other failure is the caller's to
    /// decide, since our internal calls change state. UNAVAILABLE also ends a call whose server died while handling
    /// it, so a retried call may be the second handling of the same request: every internal RPC must be safe to repeat
    /// (claims and outcomes are fenced by attempt; StartRuns by the run ids the publisher names).
    /// </summary>
    public static IHttpClientBuilder AddInternalGrpcClient<TClient>(this IServiceCollection services, string service)
        where TClient : class =>
        services
            .AddGrpcClient<TClient>(o => o.Address = new Uri($"http://_grpc.{service}"))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
                KeepAlivePingDelay = TimeSpan.FromSeconds(30),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            })
            .ConfigureChannel(channel =>
            {
                channel.ServiceConfig = new ServiceConfig
                {
                    MethodConfigs =
                    {
                        new MethodConfig
                        {
                            Names = { MethodName.Default },
                            RetryPolicy = new RetryPolicy
                            {
                                MaxAttempts = 4,
                                InitialBackoff = TimeSpan.FromMilliseconds(200),
                                MaxBackoff = TimeSpan.FromSeconds(2),
                                BackoffMultiplier = 2,
                                RetryableStatusCodes = { StatusCode.Unavailable },
                            },
                        },
                    },
                };
                channel.MaxReceiveMessageSize = 32 * 1024 * 1024;
            })
            .WithServiceToken();
}
