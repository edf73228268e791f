using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>What an expired claim becomes, driven through the internal RPCs the scheduler and publisher use.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class LeaseRecoveryTests(PostsServiceFixture fixture)
{
    private readonly Metadata _service = TestTokens.ForService();

    [Fact]
    public async Task An_expired_claim_whose_run_started_goes_to_reconciliation_and_one_that_never_started_is_requeued_plainly()
    {
        var (started, notStarted, claim) = await ClaimTwoDuePostsAsync();
        var ids = new[] { Guid.Parse(started.Id), Guid.Parse(notStarted.Id) };
        var attempt = claim.Claimed.Single(c => c.PostId == started.Id).Attempt;
        var runs = await fixture.Internal.StartRunsAsync(new StartRunsRequest { Runs = { new RunToStart { PostId = started.Id, Attempt = attempt } } }, _service);
        Assert.True(Assert.Single(runs.Runs).Started);

        // The publisher dies here: neither outcome is ever reported, and both leases run out.
        await fixture.OwnerScalarAsync("update scheduled_posts set lease_expires_at = now() - interval '1 second' where id = any(@ids)", ("ids", ids));
        var recovered = await fixture.Internal.RecoverExpiredLeasesAsync(new RecoverExpiredLeasesRequest(), _service);

        Assert.Equal(1, recovered.Requeued);
        Assert.Equal(1, recovered.SentToReconciliation);
        Assert.Equal("queued|True|unconfirmed", await StateAsync(started.Id));
        Assert.Equal("queued|False|", await StateAsync(notStarted.Id));
    }

    [Fact]
    public async Task A_run_started_late_in_its_claim_renews_the_lease_and_one_started_early_leaves_it()
    {
        var (early, late, claim) = await ClaimTwoDuePostsAsync();
        var leaseOfEarly = await LeaseAsync(early.Id);
        // The late one waited in the publisher until 10 s of its 2 min lease were left.
        await fixture.OwnerScalarAsync("update scheduled_posts set lease_expires_at = now() + interval '10 seconds' where id = @id", ("id", Guid.Parse(late.Id)));

        await fixture.Internal.StartRunsAsync(new StartRunsRequest
        {
            Runs = { claim.Claimed.Select(c => new RunToStart { PostId = c.PostId, Attempt = c.Attempt }) },
        }, _service);

        Assert.Equal(leaseOfEarly, await LeaseAsync(early.Id));
        Assert.InRange(await LeaseAsync(late.Id) - DateTime.UtcNow, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(121));
    }

    [Fact]
    public async Task A_second_handling_of_a_started_attempt_is_refused_while_a_retry_of_the_same_handling_gets_its_run_back()
    {
        var (post, _, claim) = await ClaimTwoDuePostsAsync();
        var attempt = claim.Claimed.Single(c => c.PostId == post.Id).Attempt;
        var first = new RunToStart { PostId = post.Id, Attempt = attempt, RunId = Guid.NewGuid().ToString() };

        var opened = Assert.Single((await StartAsync(first)).Runs);
        Assert.True(opened.Started);
        Assert.Equal(first.RunId, opened.RunId);

        // The same StartRuns again (a gRPC retry whose first answer was lost): the same run, not a second one.
        var retried = Assert.Single((await StartAsync(first)).Runs);
        Assert.True(retried.Started);
        Assert.Equal(first.RunId, retried.RunId);

        // The scheduler's dispatch retried on another publisher after the first one died, maybe after it sent the
        // post: that handling names another run and must not publish; nor may one that names none.
        var other = Assert.Single((await StartAsync(new RunToStart { PostId = post.Id, Attempt = attempt, RunId = Guid.NewGuid().ToString() })).Runs);
        Assert.False(other.Started);
        var unnamed = Assert.Single((await StartAsync(new RunToStart { PostId = post.Id, Attempt = attempt })).Runs);
        Assert.False(unnamed.Started);

        Assert.Equal("publishing|False|running", await StateAsync(post.Id));
    }

    [Fact]
    public async Task A_run_id_that_is_not_a_uuid_is_invalid_argument_naming_it()
    {
        var (post, _, claim) = await ClaimTwoDuePostsAsync();
        var attempt = claim.Claimed.Single(c => c.PostId == post.Id).Attempt;
        await Expect.BadFields(() => StartAsync(new RunToStart { PostId = post.Id, Attempt = attempt, RunId = "run-1" }), "runs[0].run_id");
    }

    private async Task<StartRunsResponse> StartAsync(RunToStart run) =>
        await fixture.Internal.StartRunsAsync(new StartRunsRequest { Runs = { run } }, _service);

    /// <summary>Two posts of one new user, made due now and claimed together.</summary>
    private async Task<(ScheduledPost First, ScheduledPost Second, ClaimDuePostsResponse Claim)> ClaimTwoDuePostsAsync()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var first = await fixture.CreatePostAsync(user, channel, "first");
        var second = await fixture.CreatePostAsync(user, channel, "second");
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = any(@ids)",
            ("ids", new[] { Guid.Parse(first.Id), Guid.Parse(second.Id) }));
        var claim = await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { first.Id, second.Id } }, _service);
        Assert.Equal(2, claim.Claimed.Count);
        return (first, second, claim);
    }

    private async Task<string> StateAsync(string postId) => (string)(await fixture.OwnerScalarAsync("""
        select p.status || '|' || case when p.needs_reconciliation then 'True' else 'False' end || '|'
            || coalesce((select string_agg(r.status, ',') from post_runs r where r.scheduled_post_id = p.id), '')
        from scheduled_posts p where p.id = @id
        """, ("id", Guid.Parse(postId))))!;

    private async Task<DateTime> LeaseAsync(string postId) =>
        (DateTime)(await fixture.OwnerScalarAsync("select lease_expires_at from scheduled_posts where id = @id", ("id", Guid.Parse(postId))))!;
}
