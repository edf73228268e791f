using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A channel's rate limit holds across publisher replicas: a deferred outcome that says the platform limited the
/// channel is kept on the channel, and every run opened for the channel afterwards carries it, whichever publisher
/// opens it. A deferral of the post alone does not limit the channel.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class ChannelRateLimitTests(PostsServiceFixture fixture)
{
    private readonly global::Grpc.Core.Metadata _service = TestTokens.ForService();

    [Fact]
    public async Task A_channel_rate_limited_by_one_publisher_reaches_the_next_run_of_its_channel_with_the_limit()
    {
        var (channel, user) = await ChannelAsync();
        var until = DateTimeOffset.UtcNow.AddMinutes(3);

        await DeferAsync(await StartedAsync(channel, user), until, channelRateLimited: true);
        var next = await StartedAsync(channel, user);

        Assert.Equal(until.ToUnixTimeMilliseconds(), next.Channel.RateLimitedUntil.ToDateTimeOffset().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task A_deferral_of_the_post_alone_leaves_the_channel_unlimited()
    {
        var (channel, user) = await ChannelAsync();

        await DeferAsync(await StartedAsync(channel, user), DateTimeOffset.UtcNow.AddMinutes(3), channelRateLimited: false);
        var next = await StartedAsync(channel, user);

        Assert.Null(next.Channel.RateLimitedUntil);
    }

    private async Task<(Channel Channel, TestUser User)> ChannelAsync()
    {
        var user = fixture.NewUser();
        return (await fixture.CreateWhatsAppChannelAsync(user), user);
    }

    private sealed record Started(string PostId, int Attempt, string RunId, ChannelAccess Channel);

    /// <summary>A new post of the channel, due now, claimed and its run started (as a publisher replica does).</summary>
    private async Task<Started> StartedAsync(Channel channel, TestUser user)
    {
        var post = await fixture.CreatePostAsync(user, channel, "rate limited channel");
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", Guid.Parse(post.Id)));
        var claimed = Assert.Single((await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { post.Id } }, _service)).Claimed);
        var started = await fixture.Internal.StartRunsAsync(new StartRunsRequest
        {
            Runs = { new RunToStart { PostId = post.Id, Attempt = claimed.Attempt } },
        }, _service);
        return new Started(post.Id, claimed.Attempt, Assert.Single(started.Runs).RunId, Assert.Single(started.Channels));
    }

    private async Task DeferAsync(Started run, DateTimeOffset until, bool channelRateLimited)
    {
        var report = await fixture.Internal.ReportOutcomesAsync(new ReportOutcomesRequest
        {
            Outcomes =
            {
                new PublishOutcome
                {
                    PostId = run.PostId, Attempt = run.Attempt, RunId = run.RunId, Kind = OutcomeKind.Deferred,
                    RetryAt = Timestamp.FromDateTimeOffset(until), Error = "rate limited", ChannelRateLimited = channelRateLimited,
                },
            },
        }, _service);
        Assert.True(Assert.Single(report.Results).Accepted);
    }
}
