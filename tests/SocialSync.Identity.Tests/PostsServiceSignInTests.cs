using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using SocialSync.Identity.Cli;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Identity.Tests;

/// <summary>
/// The identity provider and PostsService together, as the AppHost runs them: PostsService trusts the provider by its
/// discovery document and JWKS (Auth:Users:Authority), so a user who signs in through the web app's code flow calls
/// the API with that access token over gRPC, grpc-web and REST, as themselves.
/// </summary>
public sealed class PostsServiceSignInTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>, IAsyncLifetime
{
    private ServiceProcess _posts = null!;

    public async Task InitializeAsync()
    {
        var database = await fixture.Postgres.CreateDatabaseAsync();
        _posts = new ServiceProcess("posts-service", "PostsService", new Dictionary<string, string?>
        {
            ["ConnectionStrings__postsdb"] = fixture.Postgres.ConnectionString(database),
            ["Auth__Users__Authority"] = fixture.Issuer.AbsoluteUri,
            ["Auth__Users__RequireHttpsMetadata"] = "false",
        });
        await _posts.StartAsync();
    }

    public async Task DisposeAsync() => await _posts.DisposeAsync();

    [Fact]
    public async Task A_token_from_the_identity_provider_works_on_grpc_grpc_web_and_rest_as_the_signed_in_user()
    {
        using var browser = fixture.Browser();
        var email = IdentityFixture.NewEmail();
        var pkce = IdentityBrowser.Pkce.Create();
        var code = await browser.AuthorizeAsync("socialsync-web", IdentityFixture.WebRedirectUri, pkce, email, IdentityFixture.Password, signUpIfUnknown: true);
        var token = (await browser.RedeemCodeAsync("socialsync-web", IdentityFixture.WebRedirectUri, code, pkce.Verifier)).AccessToken!;
        var auth = new Metadata { { "Authorization", $"Bearer {token}" } };
        var userId = await fixture.UserIdAsync(email);

        using var grpc = GrpcChannel.ForAddress(_posts.GrpcAddress);
        var workspaces = await new WorkspaceService.WorkspaceServiceClient(grpc).ListWorkspacesAsync(new ListWorkspacesRequest(), auth);
        Assert.Equal(userId.ToString(), Assert.Single(workspaces.Workspaces).Id);
        var channel = await new ChannelService.ChannelServiceClient(grpc).CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "1065550001234",
            AccessToken = "EAAG-signed-in",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);

        using var grpcWeb = GrpcChannel.ForAddress(_posts.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        var overGrpcWeb = await new ChannelService.ChannelServiceClient(grpcWeb).ListChannelsAsync(new ListChannelsRequest(), auth);
        Assert.Equal([channel.Id], overGrpcWeb.Channels.Select(c => c.Id));

        using var http = new HttpClient { BaseAddress = _posts.HttpAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/channels");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var rest = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Contains(channel.Id, await rest.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another user's token of the same provider sees none of it.
        using var other = fixture.Browser();
        var otherPkce = IdentityBrowser.Pkce.Create();
        var otherCode = await other.AuthorizeAsync("socialsync-web", IdentityFixture.WebRedirectUri, otherPkce, IdentityFixture.NewEmail(), IdentityFixture.Password,
            signUpIfUnknown: true);
        var otherToken = (await other.RedeemCodeAsync("socialsync-web", IdentityFixture.WebRedirectUri, otherCode, otherPkce.Verifier)).AccessToken!;
        var hidden = await Assert.ThrowsAsync<RpcException>(() => new ChannelService.ChannelServiceClient(grpc)
            .GetChannelAsync(new GetChannelRequest { Id = channel.Id }, new Metadata { { "Authorization", $"Bearer {otherToken}" } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);
    }
}
