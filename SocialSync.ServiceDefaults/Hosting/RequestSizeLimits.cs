using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SocialSync.ServiceDefaults.Hosting;

/// <summary>
/// The largest request each service reads (section <c>RequestLimits</c>), so no caller decides how much memory a
/// request takes. Kestrel refuses a larger HTTP body with 413 (REST); gRPC refuses a larger message with
/// RESOURCE_EXHAUSTED, for gRPC and grpc-web alike. Every service applies them through
/// <see cref="KestrelEndpoints.UseGrpcAndHttpEndpoints"/> and <see cref="RequestSizeLimitsExtensions.UseRequestSizeLimits"/>.
/// </summary>
public sealed class RequestSizeLimits
{
    public const string SectionName = "RequestLimits";

    /// <summary>
    /// A public request: a REST body (Kestrel's MaxRequestBodySize) and a gRPC / grpc-web message. 4 MiB by default
    /// (gRPC's own default): a batch of 500 ordinary posts is a small fraction of it.
    /// </summary>
    public int MaxRequestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// A message of the services' internal API (claims, runs, outcomes and publish batches of up to 10,000 items), 32 MiB
    /// by default: what the internal clients accept in return.
    /// </summary>
    public int MaxInternalRequestBytes { get; set; } = 32 * 1024 * 1024;

    public static RequestSizeLimits From(IConfiguration configuration)
    {
        var limits = configuration.GetSection(SectionName).Get<RequestSizeLimits>() ?? new RequestSizeLimits();
        if (limits.MaxRequestBytes <= 0 || limits.MaxInternalRequestBytes <= 0)
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(MaxRequestBytes)} and {SectionName}:{nameof(MaxInternalRequestBytes)} must be positive.");
        }
        return limits;
    }
}

public static class RequestSizeLimitsExtensions
{
    /// <summary>
    /// Hands the size of a gRPC / grpc-web call's body to gRPC's own per-message limit: Kestrel's body limit would cut
    /// a larger internal message off mid-read (UNKNOWN) and refuse an oversized grpc-web one with a bare 413 instead
    /// of RESOURCE_EXHAUSTED. Only for a gRPC method's own route, never a REST route transcoded onto it, whatever
    /// content type that claims. First in the pipeline, before anything reads a body.
    /// </summary>
    public static WebApplication UseRequestSizeLimits(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc
                && context.Request.Path.Equals(grpc.Method.FullName, StringComparison.Ordinal)
                && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
            {
                body.MaxRequestBodySize = null;
            }
            return next(context);
        });
        return app;
    }

    /// <summary>
    /// Marks <typeparamref name="TService"/> as a service of the internal API: its messages may reach
    /// <see cref="RequestSizeLimits.MaxInternalRequestBytes"/> instead of the public limit.
    /// </summary>
    public static IGrpcServerBuilder AllowInternalMessages<TService>(this IGrpcServerBuilder grpc, IConfiguration configuration)
        where TService : class
    {
        var limit = RequestSizeLimits.From(configuration).MaxInternalRequestBytes;
        return grpc.AddServiceOptions<TService>(options => options.MaxReceiveMessageSize = limit);
    }
}
