using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Background;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// WatchPosts (issue 17 part 5, docs/api.md "Watching posts"): a workspace's post changes from a resume token. Each
/// read runs as the caller under row-level security (<see cref="PostChangeStore"/>); <see cref="PostChangeFeed"/>
/// says when to read, and a read every heartbeat interval both catches anything missed and advances the token.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed partial class PostWatchGrpcService(
    PostChangeStore changes, PostChangeFeed feed, WatchOptions options, TimeProvider time, ILogger<PostWatchGrpcService> log)
    : PostWatchService.PostWatchServiceBase
{
    /// <summary>Changes per message: a long catch-up goes out in several, each with its own token.</summary>
    public const int ChangesPerMessage = 500;

    public override async Task WatchPosts(WatchPostsRequest request, IServerStreamWriter<WatchPostsResponse> responseStream, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        WatchPosition? resumeFrom = null;
        if (request.ResumeToken.Length > 0 && (resumeFrom = WatchPosition.FromToken(request.ResumeToken)) is null)
        {
            violations.Add("resume_token", "is not a token this API issued");
        }
        violations.ThrowIfAny();

        var userId = context.UserId();
        var cancellationToken = context.CancellationToken;
        var opened = await changes.OpenAsync(userId, workspaceId, cancellationToken)
            ?? throw new NotFoundException("workspace", request.WorkspaceId);
        // Subscribed before the first read: a change the read cannot see yet (its transaction still open) is found by
        // a later poll of the feed, which then wakes this watch.
        using var subscription = feed.Subscribe(opened.Workspaces);
        var position = resumeFrom ?? WatchPosition.At(opened.Start);
        LogWatching(userId, workspaceId, resumeFrom is not null);

        // The first message goes out at once, with or without changes: it carries the token to list after.
        DateTimeOffset? lastSent = null;
        while (true)
        {
            PostChangeBatch batch;
            do
            {
                batch = await changes.ReadAsync(userId, workspaceId, position, ChangesPerMessage, cancellationToken)
                    ?? throw new FailedPreconditionException(
                        $"The resume token is older than the retained history ({DurationText.Describe(options.Retention)}): list the posts again, then watch without a token.");
                position = batch.Next;
                if (batch.Changes.Count > 0 || lastSent is null || time.GetUtcNow() - lastSent >= options.HeartbeatInterval)
                {
                    await responseStream.WriteAsync(new WatchPostsResponse { Changes = { batch.Changes }, ResumeToken = position.ToToken() }, cancellationToken);
                    lastSent = time.GetUtcNow();
                }
            }
            while (batch.More);
            var untilKeepAlive = options.HeartbeatInterval - (time.GetUtcNow() - lastSent.Value);
            if (untilKeepAlive > TimeSpan.Zero)
            {
                await subscription.WaitAsync(untilKeepAlive, cancellationToken);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "User {UserId} watches the posts of workspace {WorkspaceId} (resuming: {Resuming})")]
    private partial void LogWatching(Guid userId, Guid? workspaceId, bool resuming);
}
