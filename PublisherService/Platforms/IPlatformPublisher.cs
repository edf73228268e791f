using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms;

/// <summary>
/// One social platform: what PublisherService knows about it lives in its folder under Platforms/ and is registered
/// once, with <see cref="PlatformRegistration.AddPlatform{TPublisher}"/>. A post goes to the publisher of its
/// channel's platform, and every attempt is <see cref="ReconcileAsync"/> first, then, unless that settled the post,
/// <see cref="PublishAsync"/> (<see cref="PlatformAttempt.AttemptAsync"/>).
/// </summary>
public interface IPlatformPublisher
{
    /// <summary>The platform this publisher serves: the key posts are dispatched by.</summary>
    Platform Platform { get; }

    /// <summary>The platform's name in messages people read ("WhatsApp").</summary>
    string Name { get; }

    /// <summary>
    /// Settles what earlier attempts left on the platform (<see cref="PublishJob.PlatformStateJson"/>) and, when
    /// <see cref="PublishJob.NeedsReconciliation"/>, what an attempt that ended without an outcome may have done, before
    /// anything is sent. A platform that cannot tell whether something went out answers unconfirmed: never twice.
    /// </summary>
    Task<Reconciliation> ReconcileAsync(PublishJob job, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes what reconciliation left to do; the job carries the state reconciliation returned. Every result
    /// carries the platform's state for the next attempt, and whatever a crash must not lose (an id the platform gave
    /// before an irreversible call) is saved through <see cref="IPlatformStateStore"/> as it happens.
    /// </summary>
    Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken);
}

/// <summary>
/// Everything a platform needs for one started attempt at one post: the post as the claim handed it over, its
/// channel's access, the run opened for the attempt, and the platform's state (what earlier attempts recorded, or
/// what reconciliation left).
/// </summary>
public sealed record PublishJob(ClaimedPost Post, ChannelAccess Channel, string RunId, string PlatformStateJson)
{
    public PublishJob(ClaimedPost post, ChannelAccess channel, string runId) : this(post, channel, runId, post.PlatformStateJson)
    {
    }

    /// <summary>The claim's fencing number: every change this attempt makes must name it.</summary>
    public int Attempt => Post.Attempt;

    /// <summary>True when an earlier attempt may have reached the platform: reconcile before any new send.</summary>
    public bool NeedsReconciliation => Post.NeedsReconciliation;
}

/// <summary>What reconciliation found: the attempt's result when it settled the post, else the state to publish with.</summary>
public sealed record Reconciliation(PlatformResult? Result, string StateJson)
{
    public static Reconciliation Settled(PlatformResult result) => new(result, result.StateJson ?? "");

    public static Reconciliation Unsettled(string stateJson) => new(null, stateJson);
}

/// <summary>Keeps a platform's state for the current attempt (false when it could not be saved, e.g. fenced out).</summary>
public interface IPlatformStateStore
{
    Task<bool> SaveAsync(PublishJob job, string stateJson, CancellationToken cancellationToken);
}

public static class PlatformAttempt
{
    /// <summary>One attempt on one platform: reconcile, then publish whatever reconciliation did not settle.</summary>
    public static async Task<PlatformResult> AttemptAsync(this IPlatformPublisher platform, PublishJob job, CancellationToken cancellationToken)
    {
        var reconciliation = await platform.ReconcileAsync(job, cancellationToken);
        return reconciliation.Result
            ?? await platform.PublishAsync(job with { PlatformStateJson = reconciliation.StateJson }, cancellationToken);
    }
}
