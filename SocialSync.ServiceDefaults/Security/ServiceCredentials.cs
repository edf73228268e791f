using Grpc.Core;
using Grpc.Net.ClientFactory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// Attaches a short-lived service token to every call of an internal gRPC client: signed with the service key
/// (<c>Auth:Services:SigningKey</c>), its subject the calling service's name.
/// </summary>
public sealed class ServiceTokenProvider(ServiceTokenOptions options, IHostEnvironment environment, TimeProvider time)
{
    private readonly TokenIssuer _issuer = new(options.Signing, time);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    private readonly Lock _gate = new();
    private string? _token;
    private DateTimeOffset _renewAt;

    public string GetToken()
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (_token is null || now >= _renewAt)
            {
                _token = _issuer.CreateServiceToken(environment.ApplicationName, Lifetime);
                _renewAt = now + Lifetime / 2;
            }
            return _token;
        }
    }
}

public static class ServiceCredentialsExtensions
{
    public static IServiceCollection AddServiceTokens(this IServiceCollection services)
    {
        services.AddSingleton<ServiceTokenProvider>();
        return services;
    }

    /// <summary>
    /// Sends a service token with every call. Inside the cluster the transport is plain HTTP/2 on loopback, so call
    /// credentials must be allowed on an insecure channel.
    /// </summary>
    public static IHttpClientBuilder WithServiceToken(this IHttpClientBuilder builder) =>
        builder
            .AddCallCredentials((_, metadata, serviceProvider) =>
            {
                var token = serviceProvider.GetRequiredService<ServiceTokenProvider>().GetToken();
                metadata.Add("Authorization", $"Bearer {token}");
                return Task.CompletedTask;
            })
            .ConfigureChannel(channel => channel.UnsafeUseInsecureChannelCallCredentials = true);
}
