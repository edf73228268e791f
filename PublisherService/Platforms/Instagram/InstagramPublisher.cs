using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Instagram, through Meta's Graph API. The channel's mode decides the flow: feed posts, reels and stories go through
/// media containers (<see cref="ContainerPublisher"/>); direct-message mode sends messages to one recipient
/// (<see cref="InstagramDirectMessages"/>).
/// </summary>
public sealed class InstagramPublisher : IPlatformPublisher
{
    private readonly ContainerPublisher _containers;
    private readonly InstagramDirectMessages _directMessages;

    public InstagramPublisher(GraphApiClient graph, IPlatformStateStore stateStore, IOptions<MetaOptions> options, TimeProvider time, ILogger<InstagramPublisher> log)
    {
        var settings = options.Value;
        _containers = new ContainerPublisher(graph, new InstagramContainers(graph, settings, time, log), new InstagramQuota(graph, settings, time, log),
            stateStore, settings, time, log);
        _directMessages = new InstagramDirectMessages(graph);
    }

    public Platform Platform => Platform.Instagram;

    public string Name => "Instagram";

    public Task<Reconciliation> ReconcileAsync(PublishJob job, CancellationToken cancellationToken) =>
        IsDirectMessage(job)
            ? Task.FromResult(InstagramDirectMessages.Reconcile(job))
            : _containers.ReconcileAsync(job, cancellationToken);

    public Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken) =>
        IsDirectMessage(job)
            ? _directMessages.PublishAsync(job, cancellationToken)
            : _containers.PublishAsync(job, cancellationToken);

    /// <summary>A channel without a mode posts to the feed.</summary>
    internal static InstagramMode EffectiveMode(ChannelSettings settings) =>
        settings.InstagramMode == InstagramMode.Unspecified ? InstagramMode.Feed : settings.InstagramMode;

    private static bool IsDirectMessage(PublishJob job) => EffectiveMode(job.Channel.Settings) == InstagramMode.DirectMessage;
}
