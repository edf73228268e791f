using System.Diagnostics;
using OpenTelemetry.Trace;

namespace SocialSync.ServiceDefaults.Telemetry;

/// <summary>
/// Wraps the sampler the configuration chose (OTEL_TRACES_SAMPLER, which the AppHost sets to always_on, or the
/// default) so that what this project decided not to trace stays untraced: a span is dropped when its parent is not
/// recorded and that parent is either in this process (a <see cref="SocialSyncTelemetry.Quiet"/> scope, a filtered
/// health request) or a quiet scope of the service that called us. Every other span is left to the configured
/// sampler. It only ever drops: nothing the configured sampler would drop is recorded.
/// </summary>
/// <remarks>
/// An always_on sampler alone records a child of a not-sampled parent, so every background poll (the safety net each
/// second, index reads, the relay's long poll and the queries it causes in PostsService) would become a trace.
/// A not-sampled parent from outside SocialSync (a client that sampled its trace out) is still the configured
/// sampler's decision, as always_on intends.
/// </remarks>
public sealed class QuietScopeSampler : Sampler
{
    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private readonly Sampler _configured;

    public QuietScopeSampler(Sampler configured)
    {
        _configured = configured;
        Description = $"{nameof(QuietScopeSampler)}{{{configured.Description}}}";
    }

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
    {
        var parent = samplingParameters.ParentContext;
        var parentUnrecorded = parent.TraceId != default && (parent.TraceFlags & ActivityTraceFlags.Recorded) == 0;
        return parentUnrecorded && (!parent.IsRemote || SocialSyncTelemetry.IsQuiet(parent))
            ? Drop
            : _configured.ShouldSample(samplingParameters);
    }
}
