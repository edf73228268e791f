using Google.Protobuf.WellKnownTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Tests;

/// <summary>The back-off schedule (PostsService's RetryPolicy) and what each reported outcome does to a post.</summary>
public sealed class BackoffAndOutcomeTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private const double NoJitter = 0.5;

    [Fact]
    public void The_default_schedule_is_the_seeds_5_10_20_minutes_then_no_more_retries()
    {
        var policy = new RetryPolicy(new RetryOptions());

        Assert.Equal(TimeSpan.FromMinutes(5), policy.NextDelay(0, NoJitter));
        Assert.Equal(TimeSpan.FromMinutes(10), policy.NextDelay(1, NoJitter));
        Assert.Equal(TimeSpan.FromMinutes(20), policy.NextDelay(2, NoJitter));
        Assert.Null(policy.NextDelay(3, NoJitter));
    }

    [Fact]
    public void Jitter_spreads_each_delay_by_the_configured_ratio_either_way()
    {
        var policy = new RetryPolicy(new RetryOptions { JitterRatio = 0.2 });

        Assert.Equal(TimeSpan.FromMinutes(8), policy.NextDelay(1, 0.0));
        Assert.Equal(TimeSpan.FromMinutes(12), policy.NextDelay(1, 1.0));
        Assert.Equal(TimeSpan.FromMinutes(10), policy.NextDelay(1, NoJitter));
    }

    [Fact]
    public void Base_delay_and_retry_count_are_configurable()
    {
        var policy = new RetryPolicy(new RetryOptions { BaseDelay = TimeSpan.FromSeconds(1), MaxRetries = 5, JitterRatio = 0 });

        var delays = Enumerable.Range(0, 6).Select(n => policy.NextDelay(n, 0.9)).ToArray();

        Assert.Equal(new TimeSpan?[] { TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16), null }, delays);
    }

    [Fact]
    public void A_transient_failure_requeues_at_the_back_off_and_counts_a_retry()
    {
        var decision = OutcomeRules.Decide(Outcome(OutcomeKind.TransientFailure), 1, Now, new RetryPolicy(new RetryOptions { JitterRatio = 0 }), NoJitter)!;

        Assert.Equal(PostStatus.Queued, decision.Status);
        Assert.Equal(Now.AddMinutes(10), decision.DueAt);
        Assert.Equal(2, decision.RetryCount);
        Assert.Equal("failed", decision.RunStatus);
    }

    [Fact]
    public void A_transient_failure_after_the_last_retry_fails_the_post()
    {
        var decision = OutcomeRules.Decide(Outcome(OutcomeKind.TransientFailure), 3, Now, new RetryPolicy(new RetryOptions()), NoJitter)!;

        Assert.Equal(PostStatus.Failed, decision.Status);
        Assert.Null(decision.DueAt);
        Assert.Equal(3, decision.RetryCount);
        Assert.StartsWith("Gave up after 3 retries", decision.ErrorMessage);
    }

    [Fact]
    public void A_rate_limit_deferral_waits_for_the_platforms_time_without_consuming_a_retry()
    {
        var outcome = Outcome(OutcomeKind.Deferred);
        outcome.RetryAt = Timestamp.FromDateTimeOffset(Now.AddMinutes(7));

        var decision = OutcomeRules.Decide(outcome, 2, Now, new RetryPolicy(new RetryOptions()), NoJitter)!;

        Assert.Equal(PostStatus.Queued, decision.Status);
        Assert.Equal(Now.AddMinutes(7), decision.DueAt);
        Assert.Equal(2, decision.RetryCount);
        Assert.Equal("deferred", decision.RunStatus);
    }

    [Fact]
    public void A_deferral_is_kept_between_one_second_and_25_hours_from_now()
    {
        Assert.Equal(Now.AddSeconds(1), OutcomeRules.DeferUntil(null, Now));
        Assert.Equal(Now.AddSeconds(1), OutcomeRules.DeferUntil(Now.AddSeconds(-30), Now));
        Assert.Equal(Now.AddHours(25), OutcomeRules.DeferUntil(Now.AddDays(3), Now));
    }

    [Fact]
    public void A_held_post_waits_for_its_channel_at_its_own_due_time_without_consuming_a_retry_or_a_run()
    {
        var decision = OutcomeRules.Decide(Outcome(OutcomeKind.Held), 1, Now, new RetryPolicy(new RetryOptions()), NoJitter)!;

        // No new due time: the post keeps the one it had, so the misfire window counts from when it was due.
        Assert.Equal((PostStatus.Queued, (DateTimeOffset?)null, 1), (decision.Status, decision.DueAt, decision.RetryCount));
        Assert.Null(decision.RunStatus);
    }

    [Fact]
    public void An_auth_failure_holds_the_post_for_its_channel_without_failing_it_or_consuming_a_retry()
    {
        var decision = OutcomeRules.Decide(Outcome(OutcomeKind.AuthFailure), 2, Now, new RetryPolicy(new RetryOptions()), NoJitter)!;

        Assert.Equal((PostStatus.Queued, (DateTimeOffset?)null, 2), (decision.Status, decision.DueAt, decision.RetryCount));
        Assert.Equal(("failed", "auth", "boom"), (decision.RunStatus, decision.ErrorClass, decision.ErrorMessage));
    }

    [Theory]
    [InlineData(OutcomeKind.TransientFailure, ErrorClass.Transient)]
    [InlineData(OutcomeKind.Deferred, ErrorClass.RateLimited)]
    [InlineData(OutcomeKind.AuthFailure, ErrorClass.Auth)]
    [InlineData(OutcomeKind.PermanentFailure, ErrorClass.Permanent)]
    [InlineData(OutcomeKind.Unconfirmed, ErrorClass.Ambiguous)]
    public void A_failed_run_records_its_error_class_in_the_shared_words(OutcomeKind kind, ErrorClass expected)
    {
        var decision = OutcomeRules.Decide(Outcome(kind), 0, Now, new RetryPolicy(new RetryOptions()), NoJitter)!;

        Assert.Equal(expected.ToDb(), decision.ErrorClass);
    }

    private static PublishOutcome Outcome(OutcomeKind kind) => new() { PostId = Guid.NewGuid().ToString(), Attempt = 1, Kind = kind, Error = "boom" };
}
