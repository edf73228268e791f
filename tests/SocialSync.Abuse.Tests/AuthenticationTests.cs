using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

[Collection(AbuseCollection.Name)]
public sealed class AuthenticationTests(PostsServiceFixture fixture)
{
    private sealed class ShiftedTime(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + by;
    }

    private static string Token(TokenSigning options, Guid user, TimeProvider? time = null) =>
        new TokenIssuer(options, time ?? TimeProvider.System).CreateUserToken(user, TimeSpan.FromHours(1));

    public static TheoryData<string> BadTokens() => new()
    {
        "expired",
        "wrong-signature",
        "wrong-audience",
        "wrong-issuer",
        "not-a-jwt",
        "alg-none",
        "not-yet-valid",
    };

    private static string MakeBadToken(string kind)
    {
        var user = Guid.NewGuid();
        return kind switch
        {
            "expired" => Token(TestTokens.Users, user, new ShiftedTime(TimeSpan.FromHours(-2))),
            "not-yet-valid" => Token(TestTokens.Users, user, new ShiftedTime(TimeSpan.FromHours(2))),
            "wrong-signature" => Token(TestTokens.Users with { SigningKey = "an-attacker-signing-key-that-is-long-enough-0123456789" }, user),
            "wrong-audience" => Token(TestTokens.Users with { Audience = "some-other-api" }, user),
            "wrong-issuer" => Token(TestTokens.Users with { Issuer = "someone-else" }, user),
            "not-a-jwt" => "definitely.not.a-token",
            "alg-none" => Base64Url("""{"alg":"none","typ":"JWT"}""") + "." +
                          Base64Url($$"""{"sub":"{{user}}","iss":"{{TestTokens.Users.Issuer}}","aud":"{{TestTokens.Users.Audience}}","exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""") + ".",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static string Base64Url(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [Fact]
    public async Task Calls_without_a_token_are_unauthenticated_and_write_nothing()
    {
        var before = await fixture.CountRowsAsync();
        var refusals = new[]
        {
            await Support.RefusedAsync(() => fixture.PostClient.ListPostsAsync(new ListPostsRequest(), deadline: Support.In(10))),
            await Support.RefusedAsync(() => fixture.PostClient.GetPostAsync(new GetPostRequest { Id = Guid.NewGuid().ToString() }, deadline: Support.In(10))),
            await Support.RefusedAsync(() => fixture.PostClient.CreatePostAsync(new CreatePostRequest { ChannelId = Guid.NewGuid().ToString() }, deadline: Support.In(10))),
            await Support.RefusedAsync(() => fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest { Platform = Platform.Whatsapp, AccountId = "1", AccessToken = "x" }, deadline: Support.In(10))),
            await Support.RefusedAsync(() => fixture.InternalClient.ClaimDuePostsAsync(new ClaimDuePostsRequest(), deadline: Support.In(10))),
        };
        Assert.All(refusals, r => Assert.Equal(StatusCode.Unauthenticated, r.StatusCode));
        Assert.Equal(before, await fixture.CountRowsAsync());
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_unauthenticated_on_every_api_and_writes_nothing(string kind)
    {
        var before = await fixture.CountRowsAsync();
        var auth = TestTokens.Bearer(MakeBadToken(kind));
        var refusals = new[]
        {
            await Support.RefusedAsync(() => fixture.PostClient.ListPostsAsync(new ListPostsRequest(), auth, Support.In(10))),
            await Support.RefusedAsync(() => fixture.PostClient.CreatePostAsync(new CreatePostRequest { ChannelId = Guid.NewGuid().ToString() }, auth, Support.In(10))),
            await Support.RefusedAsync(() => fixture.ChannelClient.ListChannelsAsync(new ListChannelsRequest(), auth, Support.In(10))),
            await Support.RefusedAsync(() => fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest { Platform = Platform.Whatsapp, AccountId = "1", AccessToken = "x" }, auth, Support.In(10))),
            await Support.RefusedAsync(() => fixture.InternalClient.ClaimDuePostsAsync(new ClaimDuePostsRequest(), auth, Support.In(10))),
        };
        Assert.All(refusals, r => Assert.Equal(StatusCode.Unauthenticated, r.StatusCode));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/posts");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MakeBadToken(kind));
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(before, await fixture.CountRowsAsync());
    }

    [Fact]
    public async Task Rest_without_a_token_is_401()
    {
        using var list = await fixture.Http.GetAsync("/api/posts");
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        using var create = await fixture.Http.PostAsync("/api/posts", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);
    }

    [Fact]
    public async Task A_user_token_on_every_internal_rpc_is_permission_denied_and_changes_nothing()
    {
        var victim = await Support.CreateUserWithPostAsync(fixture);
        var before = await fixture.SnapshotAsync();
        var counts = await fixture.CountRowsAsync();
        var auth = victim.Auth;
        var client = fixture.InternalClient;
        var refusals = new[]
        {
            await Support.RefusedAsync(() => client.PullScheduleChangesAsync(new PullScheduleChangesRequest(), auth, Support.In(10))),
            await Support.RefusedAsync(() => client.PullScheduleChangesAsync(new PullScheduleChangesRequest { AcknowledgedChangeIds = { 1, 2, 3 } }, auth, Support.In(10))),
            await Support.RefusedAsync(() => client.ListQueuedPostsAsync(new ListQueuedPostsRequest(), auth, Support.In(10))),
            await Support.RefusedAsync(() => client.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { victim.Post.Id } }, auth, Support.In(10))),
            await Support.RefusedAsync(() => client.RecoverExpiredLeasesAsync(new RecoverExpiredLeasesRequest(), auth, Support.In(10))),
            await Support.RefusedAsync(() => client.StartRunsAsync(new StartRunsRequest { Runs = { new RunToStart { PostId = victim.Post.Id, Attempt = 1 } } }, auth, Support.In(10))),
            await Support.RefusedAsync(() => client.ReportOutcomesAsync(new ReportOutcomesRequest
            {
                Outcomes = { new PublishOutcome { PostId = victim.Post.Id, Attempt = 1, Kind = OutcomeKind.Published } },
            }, auth, Support.In(10))),
        };
        Assert.All(refusals, r => Assert.Equal(StatusCode.PermissionDenied, r.StatusCode));
        Assert.Equal(before, await fixture.SnapshotAsync());
        Assert.Equal(counts, await fixture.CountRowsAsync());
    }

    [Fact]
    public async Task A_service_token_on_the_user_api_is_permission_denied()
    {
        var service = TestTokens.ForService();
        var refusals = new[]
        {
            await Support.RefusedAsync(() => fixture.PostClient.ListPostsAsync(new ListPostsRequest(), service, Support.In(10))),
            await Support.RefusedAsync(() => fixture.ChannelClient.ListChannelsAsync(new ListChannelsRequest(), service, Support.In(10))),
        };
        Assert.All(refusals, r => Assert.Equal(StatusCode.PermissionDenied, r.StatusCode));
    }
}
