using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms;

namespace SocialSync.PublisherService.Publishing;

/// <summary>
/// Saves a platform's state mid-attempt through PostsService (fenced by the attempt), so a crash between a platform
/// call and the outcome report still leaves what the next attempt needs to reconcile.
/// </summary>
public sealed partial class PlatformStateStore(PostsInternalService.PostsInternalServiceClient posts, TimeProvider time, ILogger<PlatformStateStore> log)
    : IPlatformStateStore
{
    public async Task<bool> SaveAsync(PublishJob job, string stateJson, CancellationToken cancellationToken)
    {
        try
        {
            await posts.SavePlatformStateAsync(
                new SavePlatformStateRequest { PostId = job.Post.PostId, Attempt = job.Attempt, PlatformStateJson = stateJson },
                deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
            return true;
        }
        catch (RpcException ex)
        {
            LogSaveFailed(job.Post.PostId, job.Attempt, ex.StatusCode);
            return false;
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Saving platform state for post {PostId} attempt {Attempt} failed ({Status})")]
    private partial void LogSaveFailed(string postId, int attempt, StatusCode status);
}
