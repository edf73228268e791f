using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>A browser reaches the public API through gRPC-Web on the HTTP/1.1 endpoint, beside REST.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class GrpcWebTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task A_grpc_web_client_creates_and_reads_a_post_over_HTTP_1_1()
    {
        var user = fixture.NewUser();
        var whatsapp = await fixture.CreateWhatsAppChannelAsync(user);
        using var channel = GrpcChannel.ForAddress(fixture.Service.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        var posts = new PostService.PostServiceClient(channel);

        var created = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = whatsapp.Id,
            Content = new Content { Text = "Hello over gRPC-Web" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, user.Headers);
        var read = await posts.GetPostAsync(new GetPostRequest { Id = created.Id }, user.Headers);

        Assert.Equal((created.Id, "Hello over gRPC-Web", PostStatus.Queued), (read.Id, read.Content.Text, read.Status));
    }
}
