using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;

namespace SocialSync.PostsService.Tests;

/// <summary>Request bytes that are not the method's protobuf message are the caller's error, over gRPC and gRPC-Web alike.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class UndecodableRequestTests(PostsServiceFixture fixture)
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

    private static readonly Method<byte[], byte[]> CreatePost =
        new(MethodType.Unary, "socialsync.posts.v1.PostService", "CreatePost", Raw, Raw);

    private static readonly Method<byte[], byte[]> CreateChannel =
        new(MethodType.Unary, "socialsync.posts.v1.ChannelService", "CreateChannel", Raw, Raw);

    /// <summary>Bytes no CreatePostRequest decodes from, and bytes no CreateChannelRequest decodes from, broken the same way.</summary>
    public static TheoryData<string, byte[], byte[]> Undecodable => new()
    {
        // The first string field (channel_id; account_id) claims 2^31 bytes and has two.
        { "a length beyond the end", [0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x41, 0x42], [0x12, 0xFF, 0xFF, 0xFF, 0x0F, 0x41, 0x42] },
        { "tag zero", [0x00, 0x01], [0x00, 0x01] },
        // The first string field holds bytes that are not UTF-8.
        { "a string that is not UTF-8", [0x0A, 0x02, 0xC3, 0x28], [0x12, 0x02, 0xC3, 0x28] },
        { "a truncated varint", [0x08, 0xFF], [0x08, 0xFF] },
    };

    [Theory]
    [MemberData(nameof(Undecodable))]
    public async Task Undecodable_request_bytes_are_INVALID_ARGUMENT_over_gRPC_and_gRPC_Web(string what, byte[] createPost, byte[] createChannel)
    {
        var user = fixture.NewUser();
        using var web = GrpcChannel.ForAddress(fixture.Service.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWeb, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        using var grpc = GrpcChannel.ForAddress(fixture.Service.GrpcAddress);

        foreach (var (transport, channel) in new[] { ("gRPC", grpc), ("gRPC-Web", web) })
        {
            foreach (var (method, body) in new[] { (CreatePost, createPost), (CreateChannel, createChannel) })
            {
                var refused = await Assert.ThrowsAsync<RpcException>(() =>
                    channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(user.Headers), body).ResponseAsync);
                Assert.True(refused.StatusCode == StatusCode.InvalidArgument,
                    $"{what} to {method.Name} over {transport}: expected INVALID_ARGUMENT, got {refused.StatusCode} \"{refused.Status.Detail}\"");
                Assert.StartsWith("The request is not a valid", refused.Status.Detail);
            }
        }
        Assert.Equal(0L, await fixture.OwnerScalarAsync("select count(*) from channels where user_id = @u", ("u", user.Id)));
    }

    [Fact]
    public async Task Services_bound_with_the_decoding_marshaller_keep_streaming_methods_and_their_authorization()
    {
        using var grpc = GrpcChannel.ForAddress(fixture.Service.GrpcAddress);

        // Server reflection: a duplex stream.
        var reflection = new global::Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(grpc);
        using (var call = reflection.ServerReflectionInfo())
        {
            await call.RequestStream.WriteAsync(new global::Grpc.Reflection.V1Alpha.ServerReflectionRequest { ListServices = "" });
            await call.RequestStream.CompleteAsync();
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Contains(call.ResponseStream.Current.ListServicesResponse.Service, s => s.Name == "socialsync.posts.v1.PostService");
        }

        // gRPC health: unary Check and the server-streaming Watch.
        var health = new global::Grpc.Health.V1.Health.HealthClient(grpc);
        Assert.Equal(global::Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new global::Grpc.Health.V1.HealthCheckRequest())).Status);
        using (var watch = health.Watch(new global::Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10)))
        {
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        }

        // The service's [Authorize] policies are still its methods' metadata.
        var posts = new Posts.V1.PostService.PostServiceClient(grpc);
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => posts.GetPostAsync(new Posts.V1.GetPostRequest { Id = Guid.NewGuid().ToString() }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        var service = await Assert.ThrowsAsync<RpcException>(() =>
            posts.GetPostAsync(new Posts.V1.GetPostRequest { Id = Guid.NewGuid().ToString() }, Testing.TestTokens.ForService()).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, service.StatusCode);
    }
}
