using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Users sign in with an OIDC provider: PostsService takes their access tokens by the issuer's discovery document and
/// JWKS (here a test issuer on loopback HTTP whose keys the tests add and remove while the service runs).
/// </summary>
[Collection(AbuseCollection.Name)]
public sealed class OidcTokenTests(PostsServiceFixture fixture)
{
    private TestOidcIssuer Issuer => fixture.Issuer;

    private static Metadata Auth(string token) => TestTokens.Bearer(token);

    private async Task<StatusCode> ListPostsAsync(string token, GrpcChannel? channel = null)
    {
        try
        {
            await new PostService.PostServiceClient(channel ?? fixture.Channel).ListPostsAsync(new ListPostsRequest(), Auth(token), Support.In(10));
            return StatusCode.OK;
        }
        catch (RpcException ex)
        {
            return ex.StatusCode;
        }
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public async Task An_access_token_of_the_configured_issuer_works_on_grpc_grpc_web_and_rest(string algorithm)
    {
        var token = Issuer.CreateToken(Issuer.AddKey(algorithm), Guid.NewGuid());

        var channel = await fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "1098765432101",
            AccessToken = $"EAAoidc{Guid.NewGuid():N}",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, Auth(token), Support.In(30));

        using var grpcWeb = GrpcChannel.ForAddress(fixture.Posts.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        var overGrpcWeb = await new ChannelService.ChannelServiceClient(grpcWeb).ListChannelsAsync(new ListChannelsRequest(), Auth(token), Support.In(10));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/channels");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var rest = await fixture.Http.SendAsync(request);
        var body = await rest.Content.ReadAsStringAsync();

        Assert.Equal([channel.Id], overGrpcWeb.Channels.Select(c => c.Id));
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Contains(channel.Id, body, StringComparison.Ordinal);
    }

    public static TheoryData<string> BadTokens => new()
    {
        "wrong issuer",
        "wrong audience",
        "unknown key",
        "expired",
        "HS256 with the user key, naming the OIDC issuer",
        "HS256 keyed with the issuer's public key",
    };

    private string MakeBadToken(string kind)
    {
        var key = Issuer.AddKey("RS256");
        var user = Guid.NewGuid();
        return kind switch
        {
            "wrong issuer" => Issuer.CreateToken(key, user, new Dictionary<string, object> { [JwtRegisteredClaimNames.Iss] = "http://127.0.0.1:1/someone-else" }),
            "wrong audience" => Issuer.CreateToken(key, user, new Dictionary<string, object> { [JwtRegisteredClaimNames.Aud] = "some-other-api" }),
            "unknown key" => Issuer.CreateToken(TestOidcIssuer.NewUnpublishedKey("ES256"), user),
            "expired" => Issuer.CreateToken(key, user, lifetime: TimeSpan.FromHours(-1)),
            "HS256 with the user key, naming the OIDC issuer" =>
                new TokenIssuer(TestTokens.Users with { Issuer = Issuer.Authority }, TimeProvider.System).CreateUserToken(user, TimeSpan.FromHours(1)),
            // The classic confusion: the public key (which anyone can fetch) used as an HMAC secret.
            "HS256 keyed with the issuer's public key" => new TokenIssuer(TestTokens.Users with
            {
                SigningKey = Convert.ToBase64String(((Microsoft.IdentityModel.Tokens.RsaSecurityKey)key.SecurityKey).Rsa.ExportSubjectPublicKeyInfo()),
                Issuer = Issuer.Authority,
            }, TimeProvider.System).CreateUserToken(user, TimeSpan.FromHours(1)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_token_with_a_wrong_issuer_audience_or_key_is_unauthenticated_and_writes_nothing(string kind)
    {
        var before = await fixture.CountRowsAsync();
        var token = MakeBadToken(kind);

        Assert.Equal(StatusCode.Unauthenticated, await ListPostsAsync(token));
        var create = await Support.RefusedAsync(() => fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp, AccountId = "1", AccessToken = "x",
        }, Auth(token), Support.In(10)));
        Assert.Equal(StatusCode.Unauthenticated, create.StatusCode);
        using var rest = new HttpRequestMessage(HttpMethod.Post, "/api/posts") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        rest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.Http.SendAsync(rest)).StatusCode);
        Assert.Equal(before, await fixture.CountRowsAsync());
    }

    [Fact]
    public async Task A_new_key_works_on_its_first_token_and_a_removed_key_is_refused_without_a_restart()
    {
        var process = fixture.Posts.ProcessId;
        var user = Guid.NewGuid();
        var old = Issuer.AddKey("RS256");
        Assert.Equal(StatusCode.OK, await ListPostsAsync(Issuer.CreateToken(old, user)));

        // The issuer rotates: a new key appears in its JWKS and signs the next token, which is taken at once.
        var next = Issuer.AddKey("ES256");
        Assert.Equal(StatusCode.OK, await ListPostsAsync(Issuer.CreateToken(next, user)));

        // The old key is withdrawn (as after a leak): refused within the refresh interval, by the same process.
        Issuer.Remove(old);
        var removed = Stopwatch.StartNew();
        var oldToken = Issuer.CreateToken(old, user);
        await Polling.UntilAsync(() => ListPostsAsync(oldToken), s => s == StatusCode.Unauthenticated,
            PostsServiceFixture.KeyRefresh * 5, "a token of the removed key to be refused");

        Assert.True(removed.Elapsed < PostsServiceFixture.KeyRefresh * 5, $"refused after {removed.Elapsed}");
        Assert.Equal(StatusCode.OK, await ListPostsAsync(Issuer.CreateToken(next, user)));
        Assert.Equal(process, fixture.Posts.ProcessId);
    }

    [Fact]
    public async Task An_HS256_token_is_refused_when_only_an_Authority_is_configured()
    {
        var settings = new Dictionary<string, string?>(Issuer.Settings(PostsServiceFixture.KeyRefresh))
        {
            ["ConnectionStrings__postsdb"] = fixture.Postgres.ConnectionString(await fixture.Postgres.CreateDatabaseAsync()),
            ["Auth__Users__SigningKey"] = null,
        };
        await using var oidcOnly = new ServiceProcess("posts-service-oidc-only", "PostsService", settings);
        await oidcOnly.StartAsync();
        using var channel = GrpcChannel.ForAddress(oidcOnly.GrpcAddress);
        var user = Guid.NewGuid();

        Assert.Equal(StatusCode.Unauthenticated, await ListPostsAsync(TestTokens.User(user), channel));
        Assert.Equal(StatusCode.Unauthenticated, await ListPostsAsync(
            new TokenIssuer(TestTokens.Users with { Issuer = Issuer.Authority }, TimeProvider.System).CreateUserToken(user, TimeSpan.FromHours(1)), channel));
        Assert.Equal(StatusCode.OK, await ListPostsAsync(Issuer.CreateToken(Issuer.AddKey("RS256"), user), channel));
    }
}
