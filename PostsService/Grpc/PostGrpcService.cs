using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The public post API: each call parses its request (<see cref="PostRequests"/>), calls a store and answers. A
/// post the caller cannot see is NOT_FOUND, whether it does not exist or is another user's.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostGrpcService(
    PostStore posts,
    ReviewStore reviews,
    PostEventStore events,
    RunStore runs,
    StatisticsStore statistics,
    CreatePostBatcher createBatcher,
    ScheduleChangeNotifier scheduleChanges,
    TimeProvider time,
    PostsMetrics metrics,
    UserRateLimits limits,
    PostMediaChecks media) : PostService.PostServiceBase
{
    /// <summary>
    /// Creates one post; concurrent creates are committed together (<see cref="CreatePostBatcher"/>). A valid request
    /// costs one of the user's creates (<see cref="UserRateLimits"/>), an invalid one none.
    /// </summary>
    public override async Task<ScheduledPost> CreatePost(CreatePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var parsed = PostRequests.ParseCreate(request, "", time.GetUtcNow(), violations);
        violations.ThrowIfAny();
        await media.CheckCreatesAsync(userId, [parsed], context.CancellationToken);
        if (request.ValidateOnly)
        {
            // Nothing is written, so it costs no create: the composer checks what is being typed this way.
            return await posts.ValidateCreateAsync(userId, parsed, context.CancellationToken);
        }
        limits.TakeCreates(userId, 1);

        var post = await createBatcher.CreateAsync(userId, parsed with { Traceparent = Activity.Current?.Id }, context.CancellationToken);
        PostTracing.Created(post);
        return post;
    }

    /// <summary>Creates 1 to <see cref="RateLimitOptions.MaxBatchCreate"/> posts in one transaction; a valid batch of N costs N creates.</summary>
    public override async Task<BatchCreatePostsResponse> BatchCreatePosts(BatchCreatePostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var parsed = PostRequests.ParseBatchCreate(request, limits.Options.MaxBatchCreate, time.GetUtcNow(), Activity.Current?.Id);
        await media.CheckCreatesAsync(userId, parsed, context.CancellationToken);
        limits.TakeCreates(userId, parsed.Count);
        var created = await posts.CreateAsync(userId, parsed, context.CancellationToken);
        scheduleChanges.Pulse();
        foreach (var post in created)
        {
            metrics.PostCreated(post.Platform);
        }
        return new BatchCreatePostsResponse { Posts = { created } };
    }

    public override async Task<ScheduledPost> GetPost(GetPostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var id = RequestFields.RequireId(request.Id, "id");
        return await posts.GetAsync(userId, id, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
    }

    public override async Task<ListPostsResponse> ListPosts(ListPostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (filter, pageRequest, tokenTotal) = PostRequests.ParseList(request, context.QueryNames("limit"));
        var page = await posts.ListAsync(userId, filter, pageRequest, context.CancellationToken);
        // Counted on the first page only; later pages repeat the count their token carries (see total_size).
        var total = tokenTotal ?? page.Total;
        var response = new ListPostsResponse { Posts = { page.Items }, TotalSize = total };
        if (page.More)
        {
            var last = page.Items[^1];
            var after = new PostPosition(last.PublishAt.ToDateTimeOffset(), Guid.Parse(last.Id));
            response.NextPageToken = PostPageTokens.Encode(after, PostPageTokens.FingerprintOf(request), total);
        }
        return response;
    }

    /// <summary>Cancels a post that has not gone out (<see cref="PostLifecycle.Cancellable"/>).</summary>
    public override async Task<ScheduledPost> CancelPost(CancelPostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await posts.CancelAsync(userId, id, etag, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
    }

    /// <summary>
    /// Edits a post that has not gone out (<see cref="PostEdit"/>): publishing, published and cancelled posts are
    /// refused with FAILED_PRECONDITION; a concurrent claim or edit makes it fail (FAILED_PRECONDITION / ABORTED).
    /// </summary>
    public override async Task<ScheduledPost> UpdatePost(UpdatePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var edit = PostRequests.ParseEdit(request, time.GetUtcNow());
        await media.CheckEditAsync(userId, edit, context.CancellationToken);
        var edited = await posts.EditAsync(userId, edit, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
        scheduleChanges.Pulse();
        return edited;
    }

    /// <summary>Removes a post and its runs. Refused while it is publishing (the attempt's outcome must land first).</summary>
    public override async Task<Empty> DeletePost(DeletePostRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await posts.DeleteAsync(userId, id, etag, context.CancellationToken)
            ? new Empty()
            : throw new NotFoundException("post", request.Id);
    }

    /// <summary>
    /// The monitoring figures of the original REST contract for the caller's posts. "Finished in the last 24 h":
    /// published (by published_at) or failed / missed / unconfirmed (by updated_at) since now - 24 h.
    /// </summary>
    public override async Task<PostStatistics> GetPostStatistics(GetPostStatisticsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var counts = await statistics.CountAsync(userId, time.GetUtcNow() - TimeSpan.FromHours(24), context.CancellationToken);
        return PostRequests.ToStatistics(counts);
    }

    public override async Task<ListPostRunsResponse> ListPostRuns(ListPostRunsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var limit = RequestFields.ParseLimit(request.Limit, context.QueryNames("limit"), fallback: 10, max: 100, "limit", violations);
        violations.ThrowIfAny();

        var found = await runs.ListAsync(userId, id!.Value, limit, context.CancellationToken) ?? throw new NotFoundException("post", request.Id);
        return new ListPostRunsResponse { Runs = { found } };
    }

    /// <summary>Sends a draft, rejected or expired post on (<see cref="ReviewStore.SubmitAsync"/>).</summary>
    public override async Task<ScheduledPost> SubmitPost(SubmitPostRequest request, ServerCallContext context)
    {
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        var submitted = await reviews.SubmitAsync(context.UserId(), id, etag, time.GetUtcNow(), context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
        scheduleChanges.Pulse();
        return submitted;
    }

    /// <summary>Approves the version the reviewer saw (<see cref="ReviewStore.ApproveAsync"/>).</summary>
    public override async Task<ScheduledPost> ApprovePost(ApprovePostRequest request, ServerCallContext context)
    {
        var now = time.GetUtcNow();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        if (etag is null && request.Etag.Length == 0)
        {
            violations.Add("etag", "is required: an approval applies to the version the approver reviewed");
        }
        DateTimeOffset? publishAt = null;
        if (request.PublishAt is not null)
        {
            publishAt = RequestFields.ParseTime(request.PublishAt, "publish_at", violations);
            if (publishAt <= now)
            {
                violations.Add("publish_at", "must be in the future");
            }
        }
        violations.ThrowIfAny();
        var approved = await reviews.ApproveAsync(context.UserId(), id!.Value, etag!.Value, publishAt, now, context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
        scheduleChanges.Pulse();
        return approved;
    }

    /// <summary>Sends a pending post back to its author with a reason (<see cref="ReviewStore.RejectAsync"/>).</summary>
    public override async Task<ScheduledPost> RejectPost(RejectPostRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 1000)
        {
            violations.Add("reason", "is required (1-1000 characters): the author reads it");
        }
        violations.ThrowIfAny();
        return await reviews.RejectAsync(context.UserId(), id!.Value, request.Reason.Trim(), etag, context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
    }

    /// <summary>The post's history, oldest first (<see cref="PostEventStore"/>).</summary>
    public override async Task<ListPostEventsResponse> ListPostEvents(ListPostEventsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations, defaultSize: 50, maxSize: 100);
        violations.ThrowIfAny();
        var page = await events.ListAsync(context.UserId(), id!.Value, pageSize, offset, context.CancellationToken)
            ?? throw new NotFoundException("post", request.Id);
        return new ListPostEventsResponse { Events = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }
}
