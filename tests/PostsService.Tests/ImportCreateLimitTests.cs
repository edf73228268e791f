using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Tests;

/// <summary>How an import's chunks take their posts from the user's create bucket (UserRateLimits), without a service.</summary>
public sealed class ImportCreateLimitTests
{
    [Fact]
    public async Task An_import_chunk_waits_for_the_users_create_bucket_to_refill_and_then_takes_from_it()
    {
        using var limits = new UserRateLimits(new RateLimitOptions
        {
            // Long enough that a loaded machine does not see the bucket refill between two lines of the test.
            Period = TimeSpan.FromSeconds(2),
            CreatesPerPeriod = 2,
            CreateBurst = 2,
            MaxBatchCreate = 2,
        });
        var user = Guid.NewGuid();
        limits.TakeCreates(user, 2);
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 2));

        var chunk = limits.TakeCreatesWaitingAsync(user, 2, TimeProvider.System, CancellationToken.None);
        Assert.False(chunk.IsCompleted);
        await chunk.WaitAsync(TimeSpan.FromSeconds(10));

        // The chunk took the refilled creates: a create right after it finds the bucket empty.
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 1));
    }
}
