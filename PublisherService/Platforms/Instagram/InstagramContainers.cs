using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Instagram's media containers: creating a post's containers (a carousel's items first, all FINISHED before the
/// parent exists), polling a container's status_code within <see cref="MetaOptions.ContainerProcessingBudget"/>
/// (polls are not retries), and what a container in ERROR or EXPIRED means.
/// </summary>
internal sealed partial class InstagramContainers(GraphApiClient graph, MetaOptions options, TimeProvider time, ILogger log)
{
    /// <summary>
    /// Creates the planned containers and records them in <paramref name="state"/>; null when the parent exists, else
    /// why an item could not be finished.
    /// </summary>
    public async Task<FailedResult?> CreateAsync(PublishJob job, InstagramState state, ContainerPlan plan, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
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
                    $"Instagram was still processing a carousel item after {options.ContainerProcessingBudget.TotalSeconds:0} s; will retry.",
                    0, null, null, state.ToJson());
            }
            if (status.Code != ContainerStatus.Finished)
            {
                return Failure(status).ToFailedResult(state.ToJson());
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
        log.LogContainerCreated(job.Post.PostId, state.ContainerId, state.Children.Count);
        return null;
    }

    /// <summary>Polls until the container is no longer IN_PROGRESS or the deadline comes (then IN_PROGRESS).</summary>
    public async Task<ContainerState> WaitAsync(string containerId, string token, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        while (true)
        {
            ContainerState status;
            try
            {
                status = await ReadStatusAsync(containerId, token, cancellationToken);
            }
            catch (GraphApiException ex) when (ex.ErrorClass == ErrorClass.Transient && time.GetUtcNow() + options.ContainerPollInterval < deadline)
            {
                // A failed read says nothing about the container: keep polling, never recreate on it.
                status = new ContainerState(ContainerStatus.InProgress, ex.Message);
            }
            if (status.Code != ContainerStatus.InProgress || time.GetUtcNow() + options.ContainerPollInterval > deadline)
            {
                return status;
            }
            await Task.Delay(options.ContainerPollInterval, time, cancellationToken);
        }
    }

    public async Task<ContainerState> ReadStatusAsync(string containerId, string token, CancellationToken cancellationToken)
    {
        var response = await graph.GetAsync($"{containerId}?fields=status_code,status", token, cancellationToken);
        var code = response.TryGetProperty("status_code", out var c) ? c.GetString() ?? "" : "";
        var text = response.TryGetProperty("status", out var s) ? s.GetString() ?? "" : "";
        return new ContainerState(code, text);
    }

    /// <summary>A container in ERROR names only a subcode ("Error: ... error code 2207026"); Meta's table gives its code.</summary>
    internal static GraphApiException Failure(ContainerState status)
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

    /// <summary>The id of what the Graph API created or published.</summary>
    public static string Id(JsonElement response) =>
        response.TryGetProperty("id", out var id) && id.ToString() is { Length: > 0 } value
            ? value
            : throw new GraphApiException(ErrorClass.Transient, "The Graph API answered without an id.");

    private static readonly Dictionary<int, int> CodeForSubcode = new()
    {
        [2207001] = -1, [2207032] = -1, [2207053] = -1, [2207003] = -2, [2207020] = -2, [2207057] = 1, [2207051] = 4,
        [2207042] = 9, [2207006] = 24, [2207008] = 24, [2207050] = 25, [2207023] = 100, [2207028] = 100,
        [2207035] = 100, [2207036] = 100, [2207037] = 100, [2207040] = 100, [2207026] = 352, [2207052] = 9004,
        [2207027] = 9007, [2207004] = 36000, [2207005] = 36001, [2207009] = 36003, [2207010] = 36004,
    };

    [GeneratedRegex(@"\d{7}")]
    private static partial Regex SubcodePattern();
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
