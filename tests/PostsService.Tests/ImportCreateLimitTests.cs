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

        var chunk = limits.TakeCreatesWaitingAsync(user, 2, TimeSpan.FromMinutes(1), _ => Task.FromResult(true), TimeProvider.System, CancellationToken.None);
        Assert.False(chunk.IsCompleted);
        Assert.True(await chunk.WaitAsync(TimeSpan.FromSeconds(20)));

        // The chunk took the refilled creates: right after it the bucket holds less than a chunk (without the take,
        // it would hold the two it refilled).
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 2));
    }

    [Fact]
    public async Task A_long_refill_is_waited_in_pieces_each_after_asking_whether_to_go_on()
    {
        // The refill of a chunk of 2 takes two periods of 2 s: waited in pieces of at most 250 ms, it asks many times.
        using var limits = new UserRateLimits(new RateLimitOptions { Period = TimeSpan.FromSeconds(2), CreatesPerPeriod = 1, CreateBurst = 2, MaxBatchCreate = 2 });
        var user = Guid.NewGuid();
        limits.TakeCreates(user, 2);
        var asked = 0;

        var took = await limits.TakeCreatesWaitingAsync(user, 2, TimeSpan.FromMilliseconds(250), _ => Task.FromResult(Interlocked.Increment(ref asked) > 0),
            TimeProvider.System, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(took);
        // At least 2 s of refill in pieces of 250 ms (one piece, the bucket's own wait, would ask once).
        Assert.True(asked >= 4, $"asked {asked} times");
    }

    [Fact]
    public async Task A_wait_told_not_to_go_on_ends_at_once_with_false()
    {
        using var limits = new UserRateLimits(new RateLimitOptions { Period = TimeSpan.FromSeconds(1), CreatesPerPeriod = 1, CreateBurst = 2, MaxBatchCreate = 2 });
        var user = Guid.NewGuid();
        limits.TakeCreates(user, 2);
        var asked = 0;

        var took = await limits.TakeCreatesWaitingAsync(user, 2, TimeSpan.FromMilliseconds(100), _ => Task.FromResult(Interlocked.Increment(ref asked) < 3),
            TimeProvider.System, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.False(took);
        Assert.Equal(3, asked);
    }
}
