using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Publishes to Instagram with the container flow: create the container (carousel: every child first, all FINISHED
/// before the parent is created), poll its status_code within <see cref="MetaOptions.ContainerProcessingBudget"/>
/// (polls are not retries), check content_publishing_limit, media_publish, then read the permalink.
/// The container id is saved before media_publish and the media id right after it, so any later attempt reconciles by
/// reading the container (PUBLISHED: done; FINISHED: publish it; ERROR/EXPIRED: a new container) and never publishes
/// twice. Direct-message mode keeps the seed's behaviour.
/// </summary>
public sealed partial class InstagramPublisher(
    GraphApiClient graph,
    IPlatformStateStore stateStore,
    IOptions<MetaOptions> options,
    TimeProvider time,
    ILogger<InstagramPublisher> log) : IPlatformPublisher
{
    private readonly MetaOptions _options = options.Value;

    public Platform Platform => Platform.Instagram;

    public Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken) =>
        EffectiveMode(job.Channel.Settings) == InstagramMode.DirectMessage
            ? SendDirectMessageAsync(job, cancellationToken)
            : PublishMediaAsync(job, cancellationToken);

    internal static InstagramMode EffectiveMode(ChannelSettings settings) =>
        settings.InstagramMode == InstagramMode.Unspecified ? InstagramMode.Feed : settings.InstagramMode;

    private async Task<PlatformResult> PublishMediaAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = InstagramState.Parse(job.PlatformStateJson);
        var token = job.Channel.AccessToken;
        try
        {
            if (state.MediaId is { } publishedId)
            {
                // An earlier attempt published and saved the media id, but its report was lost.
                LogAlreadyPublished(job.Post.Id, publishedId);
                return await PublishedAsync(state, publishedId, token, cancellationToken);
            }

            var deadline = time.GetUtcNow() + _options.ContainerProcessingBudget;
            if (state.ContainerId is { } recorded)
            {
                var status = await ReadStatusAsync(recorded, token, cancellationToken);
                LogReconciling(job.Post.Id, recorded, status.Code);
                switch (status.Code)
                {
                    case ContainerStatus.Published:
                        return Reconciled(state, recorded);
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
                LogNothingToReconcile(job.Post.Id);
            }

            if (state.ContainerId is null)
            {
                if (Plan(job.Post.Content, EffectiveMode(job.Channel.Settings)) is { Error: { } invalid })
                {
                    return new FailedResult(ErrorClass.Permanent, invalid, 0, null, null, state.ToJson());
                }
                var created = await CreateContainersAsync(job, state, deadline, cancellationToken);
                if (created is not null)
                {
                    return created;
                }
                if (!await stateStore.SaveAsync(job, state.ToJson(), cancellationToken))
                {
                    // Publishing a container nobody recorded could not be reconciled after a crash.
                    return new FailedResult(ErrorClass.Transient, "Could not record the Instagram container before publishing; will retry.",
                        0, null, null, state.ToJson());
                }
            }

            var containerId = state.ContainerId!;
            var final = await WaitAsync(containerId, token, deadline, cancellationToken);
            switch (final.Code)
            {
                case ContainerStatus.Published:
                    return Reconciled(state, containerId);
                case ContainerStatus.Finished:
                    break;
                case ContainerStatus.InProgress:
                    return new FailedResult(ErrorClass.Transient,
                        $"Instagram was still processing the media after {_options.ContainerProcessingBudget.TotalSeconds:0} s; will check the same container again.",
                        0, null, null, state.ToJson());
                default:
                    state.ForgetContainer();
                    return FailedResult.From(ContainerFailure(final), state.ToJson());
            }

            if (await QuotaExhaustedAsync(job, token, cancellationToken) is { } deferred)
            {
                return deferred with { StateJson = state.ToJson() };
            }

            return await PublishContainerAsync(job, state, containerId, cancellationToken);
        }
        catch (GraphApiException ex)
        {
            return FailedResult.From(WithQuotaDelay(ex), state.ToJson());
        }
        catch (AmbiguousRequestException ex)
        {
            // Only container creation gets here: an unknown container is invisible and expires, so a new one is safe.
            LogAmbiguousCreate(job.Post.Id, ex.InnerException?.GetType().Name ?? "");
            return new FailedResult(ErrorClass.Transient, "Creating the Instagram container got no answer; a new container will be made.",
                0, null, null, state.ToJson());
        }
    }

    private async Task<PlatformResult?> CreateContainersAsync(PublishJob job, InstagramState state, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        var plan = Plan(job.Post.Content, EffectiveMode(job.Channel.Settings));
        var token = job.Channel.AccessToken;
        var account = job.Channel.AccountId;
        state.Children.Clear();
        foreach (var child in plan.Children)
        {
            var response = await graph.PostAsync($"{account}/media", child, token, cancellationToken);
            state.Children.Add(Id(response));
        }
        foreach (var childId in state.Children)
        {
            // Every child must be FINISHED before the parent exists (Meta answers 2207082 / 9007 otherwise).
            var status = await WaitAsync(childId, token, deadline, cancellationToken);
            if (status.Code == ContainerStatus.InProgress)
            {
                return new FailedResult(ErrorClass.Transient,
                    $"Instagram was still processing a carousel item after {_options.ContainerProcessingBudget.TotalSeconds:0} s; will retry.",
                    0, null, null, state.ToJson());
            }
            if (status.Code != ContainerStatus.Finished)
            {
                return FailedResult.From(ContainerFailure(status), state.ToJson());
            }
        }

        var parent = plan.Parent;
        if (state.Children.Count > 0)
        {
            parent["children"] = string.Join(',', state.Children);
        }
        var created = await graph.PostAsync($"{account}/media", parent, token, cancellationToken);
        state.ContainerId = Id(created);
        state.ContainerCreatedAt = time.GetUtcNow();
        LogContainerCreated(job.Post.Id, state.ContainerId, state.Children.Count);
        return null;
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
                var mediaId = Id(response);
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
                    status = await ReadStatusAsync(containerId, token, cancellationToken);
                }
                catch (GraphApiException)
                {
                    return new FailedResult(ErrorClass.Transient,
                        "media_publish got no answer and the container could not be read; the next attempt reconciles it.",
                        0, null, null, state.ToJson());
                }
                LogAmbiguousPublish(job.Post.Id, containerId, status.Code);
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
                LogPermalinkFailed(mediaId, ex.Message);
            }
        }
        return new PublishedResult(mediaId, permalink, state.ToJson());
    }

    private PublishedResult Reconciled(InstagramState state, string containerId)
    {
        // Meta does not say whether a PUBLISHED container exposes its media id, so the container id stands in.
        state.PublishedContainerOnly = true;
        LogReconciledPublished(containerId);
        return new PublishedResult(containerId, null, state.ToJson());
    }

    private async Task<FailedResult?> QuotaExhaustedAsync(PublishJob job, string token, CancellationToken cancellationToken)
    {
        var limit = await graph.GetAsync($"{job.Channel.AccountId}/content_publishing_limit?fields=quota_usage,config", token, cancellationToken);
        if (!limit.TryGetProperty("data", out var data) || data.GetArrayLength() == 0)
        {
            return null;
        }
        var entry = data[0];
        var usage = entry.TryGetProperty("quota_usage", out var u) && u.TryGetInt32(out var used) ? used : 0;
        var total = entry.TryGetProperty("config", out var config) && config.TryGetProperty("quota_total", out var t) && t.TryGetInt32(out var quota)
            ? quota
            : int.MaxValue;
        if (usage < total)
        {
            return null;
        }
        var retryAt = time.GetUtcNow() + _options.QuotaRetryDelay;
        LogQuotaExhausted(job.Post.Id, usage, total, retryAt);
        return new FailedResult(ErrorClass.RateLimited,
            $"Instagram's publishing limit is used up ({usage} of {total} posts in 24 hours); deferred without using a retry.",
            9, 2207042, retryAt, null);
    }

    private GraphApiException WithQuotaDelay(GraphApiException ex) =>
        ex is { Code: 9, Subcode: 2207042 }
            ? new GraphApiException(ex.ErrorClass, ex.Message, ex.Code, ex.Subcode, time.GetUtcNow() + _options.QuotaRetryDelay)
            : ex;

    private async Task<ContainerState> WaitAsync(string containerId, string token, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            ContainerState status;
            try
            {
                status = await ReadStatusAsync(containerId, token, cancellationToken);
            }
            catch (GraphApiException ex) when (ex.ErrorClass == ErrorClass.Transient && time.GetUtcNow() + _options.ContainerPollInterval < deadline)
            {
                // A failed read says nothing about the container: keep polling, never recreate on it.
                status = new ContainerState(ContainerStatus.InProgress, ex.Message);
            }
            if (status.Code != ContainerStatus.InProgress || time.GetUtcNow() + _options.ContainerPollInterval > deadline)
            {
                return status;
            }
            await Task.Delay(_options.ContainerPollInterval, time, cancellationToken);
        }
    }

    private async Task<ContainerState> ReadStatusAsync(string containerId, string token, CancellationToken cancellationToken)
    {
        var response = await graph.GetAsync($"{containerId}?fields=status_code,status", token, cancellationToken);
        var code = response.TryGetProperty("status_code", out var c) ? c.GetString() ?? "" : "";
        var text = response.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
        return new ContainerState(code, text);
    }

    /// <summary>A container in ERROR names only a subcode ("Error: ... error code 2207026"); Meta's table gives its code.</summary>
    internal static GraphApiException ContainerFailure(ContainerState status)
    {
        if (status.Code == ContainerStatus.Expired)
        {
            return new GraphApiException(ErrorClass.Transient, "The Instagram container expired before it was published; a new one will be made.", -2, 2207020);
        }
        var match = SubcodePattern().Match(status.Text);
        if (match.Success && int.TryParse(match.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var subcode)
            && CodeForSubcode.TryGetValue(subcode, out var code))
        {
            return new GraphApiException(ErrorClassifier.Classify(code, subcode), $"Instagram could not process the media: {status.Text} (Meta error {code}/{subcode})", code, subcode);
        }
        return new GraphApiException(ErrorClass.Permanent, $"Instagram could not process the media: {status.Text}");
    }

    private static readonly Dictionary<int, int> CodeForSubcode = new()
    {
        [2207001] = -1, [2207032] = -1, [2207053] = -1, [2207003] = -2, [2207020] = -2, [2207057] = 1, [2207051] = 4,
        [2207042] = 9, [2207006] = 24, [2207008] = 24, [2207050] = 25, [2207023] = 100, [2207028] = 100,
        [2207035] = 100, [2207036] = 100, [2207037] = 100, [2207040] = 100, [2207026] = 352, [2207052] = 9004,
        [2207027] = 9007, [2207004] = 36000, [2207005] = 36001, [2207009] = 36003, [2207010] = 36004,
    };

    [GeneratedRegex(@"\d{7}")]
    private static partial Regex SubcodePattern();

    /// <summary>The containers a post needs, or why it cannot be posted in this mode.</summary>
    internal static ContainerPlan Plan(Content content, InstagramMode mode)
    {
        var media = content.Media;
        var caption = content.Text;
        if (media.Count == 0)
        {
            return ContainerPlan.Invalid("Instagram posts need at least one image or video.");
        }
        if (media.Any(m => m.Type is not (MediaType.Image or MediaType.Video)))
        {
            return ContainerPlan.Invalid("Instagram accepts images and videos only.");
        }
        switch (mode)
        {
            case InstagramMode.Reel:
                return media is [{ Type: MediaType.Video } video]
                    ? ContainerPlan.Single(Reel(video.Url, caption))
                    : ContainerPlan.Invalid("A reel is exactly one video.");
            case InstagramMode.Story:
                if (media.Count != 1)
                {
                    return ContainerPlan.Invalid("A story is exactly one image or video.");
                }
                var story = new Dictionary<string, object> { ["media_type"] = "STORIES" };
                story[media[0].Type == MediaType.Video ? "video_url" : "image_url"] = media[0].Url;
                return ContainerPlan.Single(story);
        }

        if (media.Count == 1)
        {
            // A single feed video is a reel shared to the feed: Meta no longer accepts media_type=VIDEO there.
            return ContainerPlan.Single(media[0].Type == MediaType.Video
                ? Reel(media[0].Url, caption)
                : WithCaption(new Dictionary<string, object> { ["image_url"] = media[0].Url }, caption));
        }
        if (media.Count > 10)
        {
            return ContainerPlan.Invalid("An Instagram carousel has at most 10 items.");
        }
        var children = media.Select(m => m.Type == MediaType.Video
            ? new Dictionary<string, object> { ["media_type"] = "VIDEO", ["video_url"] = m.Url, ["is_carousel_item"] = true }
            : new Dictionary<string, object> { ["image_url"] = m.Url, ["is_carousel_item"] = true }).ToList();
        return new ContainerPlan(children, WithCaption(new Dictionary<string, object> { ["media_type"] = "CAROUSEL" }, caption), null);
    }

    private static Dictionary<string, object> Reel(string url, string caption) =>
        WithCaption(new Dictionary<string, object> { ["media_type"] = "REELS", ["video_url"] = url, ["share_to_feed"] = true }, caption);

    private static Dictionary<string, object> WithCaption(Dictionary<string, object> body, string caption)
    {
        if (!string.IsNullOrEmpty(caption))
        {
            body["caption"] = caption;
        }
        return body;
    }

    private static string Id(JsonElement response) =>
        response.TryGetProperty("id", out var id) && id.ToString() is { Length: > 0 } value
            ? value
            : throw new GraphApiException(ErrorClass.Transient, "The Graph API answered without an id.");

    private async Task<PlatformResult> SendDirectMessageAsync(PublishJob job, CancellationToken cancellationToken)
    {
        var state = DirectMessageState.Parse(job.PlatformStateJson);
        var recipient = job.Channel.Settings.InstagramRecipientId;
        if (string.IsNullOrWhiteSpace(recipient))
        {
            return new FailedResult(ErrorClass.Permanent, "The channel has no Instagram recipient for direct messages.", 0, null, null, state.ToJson());
        }
        if (job.NeedsReconciliation)
        {
            // Instagram has no way to look a sent message up: a person decides.
            return new UnconfirmedResult("An earlier attempt may have sent this direct message; Instagram cannot tell. Check the conversation, then cancel or reschedule.", state.ToJson());
        }

        var messages = DirectMessages(job.Post.Content, recipient);
        for (var step = 0; step < messages.Count; step++)
        {
            var key = step.ToString(CultureInfo.InvariantCulture);
            if (state.Sent.ContainsKey(key))
            {
                continue;
            }
            try
            {
                var response = await graph.PostAsync($"{job.Channel.AccountId}/messages", messages[step], job.Channel.AccessToken, cancellationToken);
                state.Sent[key] = response.TryGetProperty("message_id", out var id) ? id.GetString() ?? "" : "";
            }
            catch (GraphApiException ex)
            {
                return FailedResult.From(ex, state.ToJson());
            }
            catch (AmbiguousRequestException ex)
            {
                return new UnconfirmedResult($"A direct message got no answer ({ex.InnerException?.GetType().Name}); it may have been delivered.", state.ToJson());
            }
        }
        return new PublishedResult(state.Sent.Values.FirstOrDefault() ?? "", null, state.ToJson());
    }

    internal static List<object> DirectMessages(Content content, string recipient)
    {
        var messages = new List<object>();
        if (!string.IsNullOrEmpty(content.Text))
        {
            messages.Add(new { recipient = new { id = recipient }, message = new { text = content.Text } });
        }
        foreach (var media in content.Media)
        {
            var type = media.Type switch
            {
                MediaType.Video => "video",
                MediaType.Image => "image",
                _ => "file",
            };
            messages.Add(new { recipient = new { id = recipient }, message = new { attachment = new { type, payload = new { url = media.Url } } } });
        }
        return messages;
    }

    [LoggerMessage(1, LogLevel.Information, "Post {PostId}: reconciling container {ContainerId}, which is {Status}")]
    private partial void LogReconciling(string postId, string containerId, string status);

    [LoggerMessage(2, LogLevel.Warning, "Container {ContainerId} was already PUBLISHED: recorded as published, not published again")]
    private partial void LogReconciledPublished(string containerId);

    [LoggerMessage(3, LogLevel.Information, "Post {PostId}: reconciliation found no recorded container, so nothing was published; starting afresh")]
    private partial void LogNothingToReconcile(string postId);

    [LoggerMessage(4, LogLevel.Information, "Post {PostId}: media {MediaId} was published by an earlier attempt")]
    private partial void LogAlreadyPublished(string postId, string mediaId);

    [LoggerMessage(5, LogLevel.Debug, "Post {PostId}: container {ContainerId} created ({Children} carousel items)")]
    private partial void LogContainerCreated(string postId, string containerId, int children);

    [LoggerMessage(6, LogLevel.Warning, "Post {PostId}: media_publish of {ContainerId} got no answer; the container is {Status}")]
    private partial void LogAmbiguousPublish(string postId, string containerId, string status);

    [LoggerMessage(7, LogLevel.Warning, "Post {PostId}: creating a container got no answer ({Failure})")]
    private partial void LogAmbiguousCreate(string postId, string failure);

    [LoggerMessage(8, LogLevel.Warning, "Reading the permalink of published media {MediaId} failed: {Reason}")]
    private partial void LogPermalinkFailed(string mediaId, string reason);

    [LoggerMessage(9, LogLevel.Information, "Post {PostId}: Instagram publishing quota used up ({Usage}/{Total}); deferred to {RetryAt}")]
    private partial void LogQuotaExhausted(string postId, int usage, int total, DateTimeOffset retryAt);
}

internal static class ContainerStatus
{
    public const string InProgress = "IN_PROGRESS";
    public const string Finished = "FINISHED";
    public const string Published = "PUBLISHED";
    public const string Error = "ERROR";
    public const string Expired = "EXPIRED";
}

internal sealed record ContainerState(string Code, string Text);

internal sealed record ContainerPlan(IReadOnlyList<Dictionary<string, object>> Children, Dictionary<string, object> Parent, string? Error)
{
    public static ContainerPlan Single(Dictionary<string, object> parent) => new([], parent, null);

    public static ContainerPlan Invalid(string error) => new([], [], error);
}
