using System.Globalization;
using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using static SocialSync.Abuse.Tests.LimitedPostsServiceFixture;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Per-user limits on the public API (RateLimits): a user past one is refused with RESOURCE_EXHAUSTED (REST 429) and a
/// retry hint, on every protocol, while another user is served in the same window.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class RateLimitTests(LimitedPostsServiceFixture fixture)
{
    [Fact]
    public async Task A_user_over_the_request_limit_gets_RESOURCE_EXHAUSTED_with_a_retry_hint_on_gRPC_while_another_user_is_served()
    {
        var (greedy, other) = (TestTokens.ForUser(Guid.NewGuid()), TestTokens.ForUser(Guid.NewGuid()));
        await SpendRequestsAsync(fixture.PostClient, greedy, RequestBurst);

        var refused = await Support.RefusedAsync(() => fixture.PostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), greedy, Support.In(30)));
        var served = await fixture.PostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), other, Support.In(30));

        AssertRateLimited(refused);
        Assert.Equal(0, served.Total);
    }

    [Fact]
    public async Task A_user_over_the_request_limit_gets_RESOURCE_EXHAUSTED_with_a_retry_hint_on_grpc_web_while_another_user_is_served()
    {
        var (greedy, other) = (TestTokens.ForUser(Guid.NewGuid()), TestTokens.ForUser(Guid.NewGuid()));
        await SpendRequestsAsync(fixture.GrpcWebPostClient, greedy, RequestBurst);

        var refused = await Support.RefusedAsync(() => fixture.GrpcWebPostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), greedy, Support.In(30)));
        var served = await fixture.GrpcWebPostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), other, Support.In(30));

        AssertRateLimited(refused);
        Assert.Equal(0, served.Total);
    }

    [Fact]
    public async Task A_user_over_the_request_limit_gets_429_with_Retry_After_on_REST_while_another_user_is_served()
    {
        var (greedy, other) = (TestTokens.User(Guid.NewGuid()), TestTokens.User(Guid.NewGuid()));
        for (var i = 0; i < RequestBurst; i++)
        {
            using var spent = await fixture.RestAsync(HttpMethod.Get, "/api/posts/statistics", greedy);
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        using var refused = await fixture.RestAsync(HttpMethod.Get, "/api/posts/statistics", greedy);
        using var served = await fixture.RestAsync(HttpMethod.Get, "/api/posts/statistics", other);

        await AssertRateLimitedAsync(refused);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task A_batch_costs_its_size_in_creates_counted_across_batch_unary_and_REST_creates()
    {
        var (userId, otherId) = (Guid.NewGuid(), Guid.NewGuid());
        var (auth, other) = (TestTokens.ForUser(userId), TestTokens.ForUser(otherId));
        var channel = await CreateChannelAsync(auth);
        var otherChannel = await CreateChannelAsync(other);

        // CreateBurst (3) creates: a batch of 2 leaves 1, so a second batch of 2 is refused and one more post is not.
        await fixture.PostClient.BatchCreatePostsAsync(Batch(channel, MaxBatchCreate), auth, Support.In(30));
        var batchRefused = await Support.RefusedAsync(() => fixture.PostClient.BatchCreatePostsAsync(Batch(channel, MaxBatchCreate), auth, Support.In(30)));
        using var restCreated = await fixture.RestAsync(HttpMethod.Post, "/api/posts", TestTokens.User(userId), RestPost(channel));
        var unaryRefused = await Support.RefusedAsync(() => fixture.PostClient.CreatePostAsync(Post(channel), auth, Support.In(30)));
        using var restRefused = await fixture.RestAsync(HttpMethod.Post, "/api/posts", TestTokens.User(userId), RestPost(channel));
        var othersPost = await fixture.PostClient.CreatePostAsync(Post(otherChannel), other, Support.In(30));
        var posts = await fixture.PostClient.ListPostsAsync(new ListPostsRequest(), auth, Support.In(30));

        AssertRateLimited(batchRefused);
        Assert.Equal(HttpStatusCode.Created, restCreated.StatusCode);
        AssertRateLimited(unaryRefused);
        await AssertRateLimitedAsync(restRefused);
        Assert.Equal(PostStatus.Queued, othersPost.Status);
        Assert.Equal(CreateBurst, posts.TotalSize);
    }

    [Fact]
    public async Task A_batch_larger_than_the_maximum_is_INVALID_ARGUMENT_naming_requests_and_costs_no_creates()
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var channel = await CreateChannelAsync(auth);

        var refused = await Support.RefusedAsync(() => fixture.PostClient.BatchCreatePostsAsync(Batch(channel, MaxBatchCreate + 1), auth, Support.In(30)));
        // The whole create burst is still there: a full batch and one post.
        var batch = await fixture.PostClient.BatchCreatePostsAsync(Batch(channel, MaxBatchCreate), auth, Support.In(30));
        var single = await fixture.PostClient.CreatePostAsync(Post(channel), auth, Support.In(30));

        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Equal(["requests"], Support.BadRequestOf(refused)!.FieldViolations.Select(v => v.Field));
        Assert.Equal(MaxBatchCreate, batch.Posts.Count);
        Assert.Equal(PostStatus.Queued, single.Status);
    }

    private static async Task SpendRequestsAsync(PostService.PostServiceClient client, Metadata auth, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            await client.GetPostStatisticsAsync(new GetPostStatisticsRequest(), auth, Support.In(30));
        }
    }

    private async Task<Channel> CreateChannelAsync(Metadata auth) =>
        await fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "1098765432101",
            AccessToken = $"EAAlimits{Guid.NewGuid():N}",
            DisplayName = "limits",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth, Support.In(30));

    private static CreatePostRequest Post(Channel channel) => new()
    {
        ChannelId = channel.Id,
        Content = new Content { Text = "within limits" },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
    };

    private static BatchCreatePostsRequest Batch(Channel channel, int posts) =>
        new() { Requests = { Enumerable.Range(0, posts).Select(_ => Post(channel)) } };

    private static string RestPost(Channel channel) => JsonSerializer.Serialize(new
    {
        channel_id = channel.Id,
        content = new { text = "within limits, over REST" },
        publish_at = DateTimeOffset.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
    });

    /// <summary>RESOURCE_EXHAUSTED with a Retry-After in whole seconds, and the same wait as a google.rpc.RetryInfo.</summary>
    private static void AssertRateLimited(RpcException refused)
    {
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        var seconds = int.Parse(refused.Trailers.GetValue("retry-after") ?? "missing", CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, (int)Period.TotalSeconds);
        var details = Google.Rpc.Status.Parser.ParseFrom(refused.Trailers.GetValueBytes("grpc-status-details-bin"));
        var retry = details.Details.Single(d => d.Is(RetryInfo.Descriptor)).Unpack<RetryInfo>();
        Assert.Equal(seconds, retry.RetryDelay.Seconds);
    }

    /// <summary>429 with a Retry-After in seconds, and the REST error body (code 8, RESOURCE_EXHAUSTED, with its RetryInfo).</summary>
    private static async Task AssertRateLimitedAsync(HttpResponseMessage refused)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var seconds = (int)(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero).TotalSeconds;
        Assert.InRange(seconds, 1, (int)Period.TotalSeconds);
        using var body = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        Assert.Equal((int)Code.ResourceExhausted, body.RootElement.GetProperty("code").GetInt32());
        var retry = body.RootElement.GetProperty("details").EnumerateArray()
            .Single(d => d.GetProperty("@type").GetString() == "type.googleapis.com/google.rpc.RetryInfo");
        Assert.Equal($"{seconds}s", retry.GetProperty("retryDelay").GetString());
    }
}
