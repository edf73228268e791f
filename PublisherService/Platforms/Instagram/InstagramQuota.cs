using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Instagram's publishing limit (posts per rolling 24 hours). A post over it is deferred by
/// <see cref="MetaOptions.QuotaRetryDelay"/> without using a retry: Meta tells how much of the window is used, not when
/// it frees.
/// </summary>
internal sealed class InstagramQuota(GraphApiClient graph, MetaOptions options, TimeProvider time, ILogger log)
{
    /// <summary>The deferral when the account's limit is used up (checked before media_publish), else null.</summary>
    public async Task<FailedResult?> ExhaustedAsync(PublishJob job, string token, CancellationToken cancellationToken)
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
        var retryAt = time.GetUtcNow() + options.QuotaRetryDelay;
        log.LogQuotaExhausted(job.Post.PostId, usage, total, retryAt);
        return new FailedResult(ErrorClass.RateLimited,
            $"Instagram's publishing limit is used up ({usage} of {total} posts in 24 hours); deferred without using a retry.",
            9, 2207042, retryAt, null);
    }

    /// <summary>Meta's own "quota reached" (9/2207042) names no time: the same deferral applies.</summary>
    public GraphApiException WithQuotaDelay(GraphApiException ex) =>
        ex is { Code: 9, Subcode: 2207042 }
            ? new GraphApiException(ex.ErrorClass, ex.Message, ex.Code, ex.Subcode, time.GetUtcNow() + options.QuotaRetryDelay)
            : ex;
}
