using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The RPCs SchedulerService (PostsInternalGrpcService.Scheduler.cs: the outbox, the index's rebuild, claims,
/// leases) and PublisherService (PostsInternalGrpcService.Publisher.cs: runs, outcomes, platform state) use. They
/// serve every user's posts, so their stores run on the owner pool, not under row-level security; every state
/// change is guarded in SQL: a claim only moves queued posts, and every later change must name the claim's attempt
/// number, so a fenced-out worker can never overwrite a newer attempt.
/// </summary>
[Authorize(Policy = SocialSyncAuth.ServicePolicy)]
public sealed partial class PostsInternalGrpcService(
    ScheduleOutboxStore outbox,
    DispatchStore dispatch,
    RunStore runs,
    OutcomeStore outcomes,
    ScheduleChangeNotifier notifier,
    AccessTokenProtector protector,
    RetryPolicy retryPolicy,
    PostsMetrics metrics,
    TimeProvider time,
    ILogger<PostsInternalGrpcService> log) : PostsInternalService.PostsInternalServiceBase
{
    private const int MaxBatch = 10_000;

    /// <summary>The ids of a batch request, each named by its index when it is not an id.</summary>
    private static Guid[] ParseIds(IReadOnlyList<string> ids, Func<int, string> field, FieldViolations violations)
    {
        var parsed = new Guid[ids.Count];
        for (var i = 0; i < ids.Count; i++)
        {
            parsed[i] = RequestFields.ParseId(ids[i], field(i), violations) ?? Guid.Empty;
        }
        return parsed;
    }
}
