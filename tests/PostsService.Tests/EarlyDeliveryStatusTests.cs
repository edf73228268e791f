using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// Meta's status webhook for a send can overtake PublisherService's report that the send's answer was lost. The
/// status is recorded while the post is still publishing; the outcome that arrives after it must then publish the
/// post, or it would wait as unconfirmed for a status that has already come (and, having one, is never resent).
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class EarlyDeliveryStatusTests(PostsServiceFixture fixture)
{
    private readonly global::Grpc.Core.Metadata _service = TestTokens.ForService();

    [Fact]
    public async Task An_unconfirmed_outcome_whose_send_was_already_reported_publishes_the_post_with_the_reported_wamid()
    {
        var (post, attempt, runId) = await ClaimedPostAsync();
        var callback = $"socialsync:{post.Id}:{attempt}:+16505551234#0";
        await RecordSentAsync(post.Id, attempt, callback, "wamid.early");

        var result = await ReportUnconfirmedAsync(post.Id, attempt, runId, callback);

        Assert.Equal(PostStatus.Published, result.Status);
        var stored = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, post.Owner.Headers);
        Assert.Equal(PostStatus.Published, stored.Status);
        Assert.Equal("wamid.early", stored.PlatformPostId);
        Assert.Equal("success", await fixture.OwnerScalarAsync(
            "select status from post_runs where scheduled_post_id = @id and attempt = @attempt", ("id", Guid.Parse(post.Id)), ("attempt", attempt)));
    }

    [Fact]
    public async Task A_status_for_another_send_of_the_attempt_leaves_the_lost_send_unconfirmed()
    {
        var (post, attempt, runId) = await ClaimedPostAsync();
        await RecordSentAsync(post.Id, attempt, $"socialsync:{post.Id}:{attempt}:+16505551234#0", "wamid.first-recipient");

        var result = await ReportUnconfirmedAsync(post.Id, attempt, runId, $"socialsync:{post.Id}:{attempt}:+16505559876#0");

        Assert.Equal(PostStatus.Unconfirmed, result.Status);
        Assert.Equal(PostStatus.Unconfirmed, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, post.Owner.Headers)).Status);
    }

    private async Task<(OwnedPost Post, int Attempt, string RunId)> ClaimedPostAsync()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var post = await fixture.CreatePostAsync(user, channel, "reported before its outcome");
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", Guid.Parse(post.Id)));
        var claimed = Assert.Single((await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { post.Id } }, _service)).Claimed);
        var run = Assert.Single((await fixture.Internal.StartRunsAsync(new StartRunsRequest
        {
            Runs = { new RunToStart { PostId = post.Id, Attempt = claimed.Attempt } },
        }, _service)).Runs);
        return (new OwnedPost(post.Id, user), claimed.Attempt, run.RunId);
    }

    private async Task RecordSentAsync(string postId, int attempt, string callback, string wamid)
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
        Assert.Empty(recorded.ConfirmedPostIds);
    }

    private async Task<OutcomeResult> ReportUnconfirmedAsync(string postId, int attempt, string runId, string callback)
    {
        var report = await fixture.Internal.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes =
            {
                new PublishOutcome
                {
                    PostId = postId, Attempt = attempt, RunId = runId, Kind = OutcomeKind.Unconfirmed,
                    Error = "Sending to ***1234 got no answer (HttpRequestException); it may have been delivered.",
                    UnconfirmedSendRef = callback,
                },
            },
        }, _service);
        var result = Assert.Single(report.Results);
        Assert.True(result.Accepted);
        return result;
    }

    private sealed record OwnedPost(string Id, TestUser Owner);
}
