using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Feed posts, reels and stories, with the container flow: create the containers (<see cref="InstagramContainers"/>),
/// wait until FINISHED, check the publishing limit (<see cref="InstagramQuota"/>), media_publish, then read the
/// permalink. The container id is saved before media_publish and the media id right after it, so any later attempt
/// reconciles by reading the container (PUBLISHED: done; FINISHED: publish it; ERROR/EXPIRED: a new container) and
/// never publishes twice.
/// </summary>
internal sealed class ContainerPublisher(
    GraphApiClient graph,
    InstagramContainers containers,
    InstagramQuota quota,
    IPlatformStateStore stateStore,
    MetaOptions options,
    TimeProvider time,
    ILogger log)
{
    public async Task<Reconciliation> ReconcileAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = InstagramState.Parse(job.PlatformStateJson);
        var token = job.Channel.AccessToken;
        try
        {
            if (state.MediaId is { } publishedId)
            {
                // An earlier attempt published and saved the media id, but its report was lost.
                log.LogAlreadyPublished(job.Post.PostId, publishedId);
                return Reconciliation.Settled(await PublishedAsync(state, publishedId, token, cancellationToken));
            }

            if (state.ContainerId is { } recorded)
            {
                var status = await containers.ReadStatusAsync(recorded, token, cancellationToken);
                log.LogReconciling(job.Post.PostId, recorded, status.Code);
                switch (status.Code)
                {
                    case ContainerStatus.Published:
                        return Reconciliation.Settled(Reconciled(state, recorded));
                    case ContainerStatus.Finished or ContainerStatus.InProgress:
                        break;
                    default:
                        // ERROR or EXPIRED: that container can never be published; orphans expire on their own.
                        state.ForgetContainer();
                        break;
                }
            }
            else if (job.NeedsReconciliation)
            {
                // The container id is saved before media_publish, so without one nothing can have been published.
                log.LogNothingToReconcile(job.Post.PostId);
            }
            return Reconciliation.Unsettled(state.ToJson());
        }
        catch (GraphApiException ex)
        {
            return Reconciliation.Settled(quota.WithQuotaDelay(ex).ToFailedResult(state.ToJson()));
        }
    }

    public async Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = InstagramState.Parse(job.PlatformStateJson);
        var token = job.Channel.AccessToken;
        var deadline = time.GetUtcNow() + options.ContainerProcessingBudget;
        try
        {
            if (state.ContainerId is null)
            {
                var plan = ContainerPlan.For(job.Post.Content, InstagramPublisher.EffectiveMode(job.Channel.Settings));
                if (plan.Error is { } invalid)
                {
                    return new FailedResult(ErrorClass.Permanent, invalid, 0, null, null, state.ToJson());
                }
                if (await containers.CreateAsync(job, state, plan, deadline, cancellationToken) is { } notCreated)
                {
                    return notCreated;
                }
                if (!await stateStore.SaveAsync(job, state.ToJson(), cancellationToken))
                {
                    // Publishing a container nobody recorded could not be reconciled after a crash.
                    return new FailedResult(ErrorClass.Transient, "Could not record the Instagram container before publishing; will retry.",
                        0, null, null, state.ToJson());
                }
            }

            var containerId = state.ContainerId!;
            var final = await containers.WaitAsync(containerId, token, deadline, cancellationToken);
            switch (final.Code)
            {
                case ContainerStatus.Published:
                    return Reconciled(state, containerId);
                case ContainerStatus.Finished:
                    break;
                case ContainerStatus.InProgress:
                    return new FailedResult(ErrorClass.Transient,
                        $"Instagram was still processing the media after {options.ContainerProcessingBudget.TotalSeconds:0} s; will check the same container again.",
                        0, null, null, state.ToJson());
                default:
                    state.ForgetContainer();
                    return InstagramContainers.Failure(final).ToFailedResult(state.ToJson());
            }

            if (await quota.ExhaustedAsync(job, token, cancellationToken) is { } deferred)
            {
                return deferred with { StateJson = state.ToJson() };
            }

            return await PublishContainerAsync(job, state, containerId, cancellationToken);
        }
        catch (GraphApiException ex)
        {
            return quota.WithQuotaDelay(ex).ToFailedResult(state.ToJson());
        }
        catch (AmbiguousRequestException ex)
        {
            // Only container creation gets here: an unknown container is invisible and expires, so a new one is safe.
            log.LogAmbiguousCreate(job.Post.PostId, ex.InnerException?.GetType().Name ?? "");
            return new FailedResult(ErrorClass.Transient, "Creating the Instagram container got no answer; a new container will be made.",
                0, null, null, state.ToJson());
        }
    }

    private async Task<PlatformResult> PublishContainerAsync(PublishJob job, InstagramState state, string containerId, CancellationToken cancellationToken)
    {
        var token = job.Channel.AccessToken;
        var body = new Dictionary<string, object> { ["creation_id"] = containerId };
        for (var tries = 0; ; tries++)
        {
            try
            {
                var response = await graph.PostAsync($"{job.Channel.AccountId}/media_publish", body, token, cancellationToken);
                var mediaId = InstagramContainers.Id(response);
                state.MediaId = mediaId;
                // Recorded before the permalink read: nothing after this point may fail or re-publish the post.
                await stateStore.SaveAsync(job, state.ToJson(), cancellationToken);
                return await PublishedAsync(state, mediaId, token, cancellationToken);
            }
            catch (AmbiguousRequestException)
            {
                ContainerState status;
                try
                {
                    status = await containers.ReadStatusAsync(containerId, token, cancellationToken);
                }
                catch (GraphApiException)
                {
                    return new FailedResult(ErrorClass.Transient,
                        "media_publish got no answer and the container could not be read; the next attempt reconciles it.",
                        0, null, null, state.ToJson());
                }
                log.LogAmbiguousPublish(job.Post.PostId, containerId, status.Code);
                if (status.Code == ContainerStatus.Published)
                {
                    return Reconciled(state, containerId);
                }
                if (status.Code != ContainerStatus.Finished || tries > 0)
                {
                    return new FailedResult(ErrorClass.Transient,
                        $"media_publish got no answer; the container is {status.Code}. The next attempt reconciles it.",
                        0, null, null, state.ToJson());
                }
                // FINISHED: the publish did not happen; publish once more.
            }
        }
    }

    private async Task<PlatformResult> PublishedAsync(InstagramState state, string mediaId, string token, CancellationToken cancellationToken)
    {
        string? permalink = state.Permalink;
        if (permalink is null)
        {
            try
            {
                var media = await graph.GetAsync($"{mediaId}?fields=id,permalink", token, cancellationToken);
                permalink = media.TryGetProperty("permalink", out var value) ? value.GetString() : null;
                state.Permalink = permalink;
            }
            catch (GraphApiException ex)
            {
                // The post is live; a missing link is not worth a failure, let alone a second post.
                log.LogPermalinkFailed(mediaId, ex.Message);
            }
        }
        return new PublishedResult(mediaId, permalink, state.ToJson());
    }

    private PublishedResult Reconciled(InstagramState state, string containerId)
    {
        // Meta does not say whether a PUBLISHED container exposes its media id, so the container id stands in.
        state.PublishedContainerOnly = true;
        log.LogReconciledPublished(containerId);
        return new PublishedResult(containerId, null, state.ToJson());
    }
}
