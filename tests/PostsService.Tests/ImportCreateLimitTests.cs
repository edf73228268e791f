using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Tests;

/// <summary>How an import's chunks take their posts from the user's create bucket (UserRateLimits), without a service.</summary>
public sealed class ImportCreateLimitTests
{
    [Fact]
    public async Task An_import_chunk_waits_for_the_users_create_bucket_to_refill_and_then_takes_from_it()
    {
        // A chunk of 2 needs two refills of 1: one refill that happens to fall between two lines of the test (the
        // bucket's timer does not wait for it) never makes a chunk's worth, so no assertion below depends on timing.
        using var limits = new UserRateLimits(new RateLimitOptions
        {
            Period = TimeSpan.FromSeconds(2),
            CreatesPerPeriod = 1,
            CreateBurst = 2,
            MaxBatchCreate = 2,
        });
        var user = Guid.NewGuid();
        limits.TakeCreates(user, 2);
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 2));

        var chunk = limits.TakeCreatesWaitingAsync(user, 2, TimeProvider.System, CancellationToken.None);
        Assert.False(chunk.IsCompleted);
        await chunk.WaitAsync(TimeSpan.FromSeconds(20));

        // The chunk took the refilled creates: right after it the bucket holds less than a chunk (without the take,
        // it would hold the two it refilled).
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 2));
    }
}
