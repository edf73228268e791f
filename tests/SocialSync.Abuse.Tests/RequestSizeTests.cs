using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using static SocialSync.Abuse.Tests.LimitedPostsServiceFixture;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Request size limits (RequestLimits): a public request over MaxRequestBytes is refused before it is read whole
/// (RESOURCE_EXHAUSTED, REST 413), never a 500, and the service goes on serving; the internal API takes more.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class RequestSizeTests(LimitedPostsServiceFixture fixture)
{
    // Over the limit, and otherwise a request the service would answer INVALID_ARGUMENT (a text far too long).
    private static readonly string OversizedText = new('a', MaxRequestBytes + 16 * 1024);

    [Fact]
    public async Task A_gRPC_and_a_grpc_web_message_over_the_size_limit_get_RESOURCE_EXHAUSTED_and_the_service_stays_healthy()
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());

        var grpc = await Support.RefusedAsync(() => fixture.PostClient.CreatePostAsync(Oversized(), auth, Support.In(30)));
        var grpcWeb = await Support.RefusedAsync(() => fixture.GrpcWebPostClient.CreatePostAsync(Oversized(), auth, Support.In(30)));

        Assert.Equal((StatusCode.ResourceExhausted, StatusCode.ResourceExhausted), (grpc.StatusCode, grpcWeb.StatusCode));
        await AssertHealthyAsync(auth);
    }

    [Fact]
    public async Task A_REST_body_over_the_size_limit_gets_413_and_the_service_stays_healthy()
    {
        var userId = Guid.NewGuid();
        var body = JsonSerializer.Serialize(new
        {
            channel_id = Guid.NewGuid(),
            content = new { text = OversizedText },
            publish_at = "2099-01-01T00:00:00Z",
        });

        using var refused = await fixture.RestAsync(HttpMethod.Post, "/api/posts", TestTokens.User(userId), body);
        // The same body sent in chunks, with no Content-Length to refuse it by: cut off once it passes the limit.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/posts")
        {
            Content = new StreamContent(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(body))),
        };
        chunked.Headers.TransferEncodingChunked = true;
        chunked.Headers.Authorization = new("Bearer", TestTokens.User(userId));
        chunked.Content.Headers.ContentType = new("application/json");
        using var refusedChunked = await fixture.Http.SendAsync(chunked);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refusedChunked.StatusCode);
        await AssertHealthyAsync(TestTokens.ForUser(userId));
    }

    [Fact]
    public async Task The_internal_API_takes_messages_far_above_the_public_limit()
    {
        // 5 MiB: above gRPC's 4 MiB default as well, within the internal 32 MiB. A post that is not claimed: the
        // message is read and answered on its merits.
        var state = JsonSerializer.Serialize(new { padding = new string('x', 5 * 1024 * 1024) });

        var answered = await Support.RefusedAsync(() => fixture.InternalClient.SavePlatformStateAsync(new SavePlatformStateRequest
        {
            PostId = Guid.NewGuid().ToString(),
            Attempt = 1,
            PlatformStateJson = state,
        }, TestTokens.ForService(), Support.In(60)));

        Assert.Equal(StatusCode.FailedPrecondition, answered.StatusCode);
    }

    private static CreatePostRequest Oversized() => new()
    {
        ChannelId = Guid.NewGuid().ToString(),
        Content = new Content { Text = OversizedText },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
    };

    private async Task AssertHealthyAsync(Metadata auth)
    {
        using var health = await fixture.Http.GetAsync("/health");
        var statistics = await fixture.PostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), auth, Support.In(30));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(0, statistics.Total);
    }
}
