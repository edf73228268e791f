using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A publisher that dies after opening its run leaves the attempt's send in doubt: its lease expires and the next
/// attempt reconciles. For WhatsApp that attempt can only say "unconfirmed", naming the earlier attempt's send; Meta's
/// status webhook for that send, early or late, then publishes the post.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class InDoubtSendTests(PostsServiceFixture fixture)
{
    private readonly global::Grpc.Core.Metadata _service = TestTokens.ForService();

    [Fact]
    public async Task A_reconciling_claim_names_the_attempt_whose_run_may_have_reached_the_platform()
    {
        var (_, first, second) = await ReconcilingClaimAsync();

        Assert.False(first.NeedsReconciliation);
        Assert.Equal(0, first.InDoubtAttempt);
        Assert.True(second.NeedsReconciliation);
        Assert.Equal(first.Attempt, second.InDoubtAttempt);
    }

    [Fact]
    public async Task A_status_of_the_earlier_attempts_send_arriving_after_the_reconciling_outcome_publishes_the_post()
    {
        var (post, first, second) = await ReconcilingClaimAsync();
        var inDoubt = $"socialsync:{post.Id}:{first.Attempt}:+16505551234#0";
        Assert.Equal(PostStatus.Unconfirmed, (await ReportUnconfirmedAsync(post.Id, second, inDoubt)).Status);

        var recorded = await RecordSentAsync(post.Id, first.Attempt, inDoubt, "wamid.late");

        Assert.Equal([post.Id], recorded.ConfirmedPostIds);
        var stored = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, post.Owner.Headers);
        Assert.Equal(PostStatus.Published, stored.Status);
        Assert.Equal("wamid.late", stored.PlatformPostId);
    }

    [Fact]
    public async Task A_status_of_the_earlier_attempts_send_that_came_first_publishes_the_post_with_the_reconciling_outcome()
    {
        var (post, first, second) = await ReconcilingClaimAsync();
        var inDoubt = $"socialsync:{post.Id}:{first.Attempt}:+16505551234#0";
        await RecordSentAsync(post.Id, first.Attempt, inDoubt, "wamid.early");

        Assert.Equal(PostStatus.Published, (await ReportUnconfirmedAsync(post.Id, second, inDoubt)).Status);
    }

    [Fact]
    public async Task A_status_of_another_send_of_the_earlier_attempt_leaves_the_post_unconfirmed()
    {
        var (post, first, second) = await ReconcilingClaimAsync();
        await ReportUnconfirmedAsync(post.Id, second, $"socialsync:{post.Id}:{first.Attempt}:+16505551234#1");

        var recorded = await RecordSentAsync(post.Id, first.Attempt, $"socialsync:{post.Id}:{first.Attempt}:+16505551234#0", "wamid.other");

        Assert.Empty(recorded.ConfirmedPostIds);
        Assert.Equal(PostStatus.Unconfirmed, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, post.Owner.Headers)).Status);
    }

    /// <summary>A post claimed and started, its publisher gone until the lease expired, then claimed again.</summary>
    private async Task<(OwnedPost Post, StartedClaim First, StartedClaim Second)> ReconcilingClaimAsync()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel, "its publisher died after opening the run");
        var id = Guid.Parse(post.Id);
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", id));
        var first = await ClaimAndStartAsync(post.Id);

        await fixture.OwnerScalarAsync("update scheduled_posts set lease_expires_at = now() - interval '1 second' where id = @id", ("id", id));
        await fixture.Internal.RecoverExpiredLeasesAsync(new RecoverExpiredLeasesRequest(), _service);
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", id));
        var second = await ClaimAndStartAsync(post.Id);
        return (new OwnedPost(post.Id, user), first, second);
    }

    private async Task<StartedClaim> ClaimAndStartAsync(string postId)
    {
        var claimed = Assert.Single((await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { postId } }, _service)).Claimed);
        var run = Assert.Single((await fixture.Internal.StartRunsAsync(new StartRunsRequest
        {
            Runs = { new RunToStart { PostId = postId, Attempt = claimed.Attempt, RunId = Guid.NewGuid().ToString() } },
        }, _service)).Runs);
        Assert.True(run.Started);
        return new StartedClaim(claimed.Attempt, claimed.NeedsReconciliation, claimed.InDoubtAttempt, run.RunId);
    }

    private async Task<RecordDeliveryStatusesResponse> RecordSentAsync(string postId, int attempt, string callback, string wamid)
    {
        var recorded = await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest
        {
            Statuses =
            {
                new DeliveryStatus
                {
                    PostId = postId, Attempt = attempt, CallbackRef = callback, Wamid = wamid, RecipientId = "16505551234",
                    State = DeliveryState.Sent, StatusTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                },
            },
        }, _service);
        Assert.Equal(1, recorded.Recorded);
        return recorded;
    }

    private async Task<OutcomeResult> ReportUnconfirmedAsync(string postId, StartedClaim claim, string inDoubtSend)
    {
        var report = await fixture.Internal.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes =
            {
                new PublishOutcome
                {
                    PostId = postId, Attempt = claim.Attempt, RunId = claim.RunId, Kind = OutcomeKind.Unconfirmed,
                    Error = "An earlier attempt may have sent this post; WhatsApp cannot tell.",
                    UnconfirmedSendRef = inDoubtSend,
                },
            },
        }, _service);
        var result = Assert.Single(report.Results);
        Assert.True(result.Accepted);
        return result;
    }

    private sealed record StartedClaim(int Attempt, bool NeedsReconciliation, int InDoubtAttempt, string RunId);

    private sealed record OwnedPost(string Id, TestUser Owner);
}
