using Microsoft.Extensions.Configuration;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Tests;

/// <summary>The per-user buckets (UserRateLimits) and their settings (RateLimits), without a service.</summary>
public sealed class RateLimitSettingsTests
{
    // Nothing refills while a test runs: one token an hour.
    private static UserRateLimits Limits(int requestBurst = 2, int createBurst = 3, int maxBatch = 2) => new(new RateLimitOptions
    {
        Period = TimeSpan.FromHours(1),
        RequestsPerPeriod = 1,
        RequestBurst = requestBurst,
        CreatesPerPeriod = 1,
        CreateBurst = createBurst,
        MaxBatchCreate = maxBatch,
    });

    [Fact]
    public void A_user_past_the_request_burst_is_refused_with_the_wait_and_the_setting_while_another_user_is_not()
    {
        using var limits = Limits(requestBurst: 2);
        var (greedy, other) = (Guid.NewGuid(), Guid.NewGuid());
        limits.TakeRequest(greedy);
        limits.TakeRequest(greedy);

        var refused = Assert.Throws<RateLimitExceededException>(() => limits.TakeRequest(greedy));
        limits.TakeRequest(other);

        Assert.Equal("RateLimits:RequestsPerPeriod", refused.Setting);
        Assert.InRange(refused.RetryAfterSeconds(), 1, 3600);
    }

    [Fact]
    public void A_refused_batch_takes_nothing_so_a_smaller_create_still_passes()
    {
        using var limits = Limits(createBurst: 3);
        var user = Guid.NewGuid();
        limits.TakeCreates(user, 2);

        var refused = Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 2));
        limits.TakeCreates(user, 1);

        Assert.Equal("RateLimits:CreatesPerPeriod", refused.Setting);
        Assert.Throws<RateLimitExceededException>(() => limits.TakeCreates(user, 1));
    }

    [Fact]
    public void A_create_burst_smaller_than_the_largest_batch_is_refused_naming_the_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RateLimits:CreateBurst"] = "100",
            ["RateLimits:MaxBatchCreate"] = "500",
        }).Build();

        var refused = Assert.Throws<InvalidOperationException>(() => RateLimitOptions.From(configuration));

        Assert.StartsWith("RateLimits:CreateBurst (100) must be at least RateLimits:MaxBatchCreate (500)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_let_a_full_batch_pass_and_hold_per_second_rates()
    {
        var defaults = RateLimitOptions.From(new ConfigurationBuilder().Build());

        Assert.Equal(TimeSpan.FromSeconds(1), defaults.Period);
        Assert.True(defaults.CreateBurst >= defaults.MaxBatchCreate);
        Assert.Equal(500, defaults.MaxBatchCreate);
    }
}
