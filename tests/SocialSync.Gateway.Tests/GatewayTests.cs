using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using SocialSync.Identity.Cli;
using SocialSync.Posts.V1;

namespace SocialSync.Gateway.Tests;

/// <summary>
/// The gateway as a browser meets it: sign-in with the provider into a cookie session, the API over gRPC-Web and
/// REST as the signed-in user, anti-forgery, renewal of the access token, sign-out; and a script's own token passed
/// through (as <c>buf curl --protocol grpcweb</c> sends it).
/// </summary>
public sealed class GatewayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private static CreateChannelRequest WhatsAppChannel(string account) => new()
    {
        Platform = Platform.Whatsapp,
        AccountId = account,
        AccessToken = "EAAG-gateway-test",
        Settings = new ChannelSettings { Recipients = { "+16505551234" } },
    };

    [Fact]
    public async Task A_signed_in_browser_holds_only_an_http_only_same_site_cookie_and_calls_the_api_over_grpc_web_and_rest_as_its_user()
    {
        using var browser = await fixture.SignedInAsync();

        // The session may be split into chunks (socialsync.session, socialsync.sessionC1, ...): each is http-only.
        var session = browser.Cookies.GetCookies(browser.Gateway).Where(c => c.Name.StartsWith("socialsync.session", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(session);
        Assert.All(session, c => Assert.True(c.HttpOnly, c.Name));
        Assert.All(session, c => Assert.DoesNotContain("eyJ", c.Value, StringComparison.Ordinal)); // no readable JWT in it
        Assert.NotEmpty(browser.SessionCookieHeaders);
        Assert.All(browser.SessionCookieHeaders, header => Assert.Contains("samesite=lax", header, StringComparison.OrdinalIgnoreCase));
        Assert.All(browser.SessionCookieHeaders, header => Assert.Contains("httponly", header, StringComparison.OrdinalIgnoreCase));

        using var user = await browser.SendAsync(HttpMethod.Get, "/bff/user");
        Assert.Equal(HttpStatusCode.OK, user.StatusCode);
        using var who = JsonDocument.Parse(await user.Content.ReadAsStringAsync());
        Assert.Equal(browser.Email, who.RootElement.GetProperty("email").GetString());

        using var grpcWeb = browser.GrpcWeb();
        var channel = await new ChannelService.ChannelServiceClient(grpcWeb).CreateChannelAsync(WhatsAppChannel("1065550001001"));
        var workspaces = await new WorkspaceService.WorkspaceServiceClient(grpcWeb).ListWorkspacesAsync(new ListWorkspacesRequest());
        // The personal workspace's id is the user's id: the post-service saw the provider's subject, through the gateway.
        Assert.Equal(who.RootElement.GetProperty("id").GetString(), Assert.Single(workspaces.Workspaces).Id);

        using var rest = await browser.SendAsync(HttpMethod.Get, "/api/channels");
        Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
        Assert.Contains(channel.Id, await rest.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another person's session sees none of it.
        using var other = await fixture.SignedInAsync();
        using var otherGrpcWeb = other.GrpcWeb();
        var hidden = await Assert.ThrowsAsync<RpcException>(() =>
            new ChannelService.ChannelServiceClient(otherGrpcWeb).GetChannelAsync(new GetChannelRequest { Id = channel.Id }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);
    }

    [Fact]
    public async Task The_services_internal_api_is_not_reachable_through_the_gateway_even_with_a_session()
    {
        using var browser = await fixture.SignedInAsync();
        using var grpcWeb = browser.GrpcWeb();

        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new PostsInternalService.PostsInternalServiceClient(grpcWeb).ClaimDuePostsAsync(new ClaimDuePostsRequest()).ResponseAsync);

        // Not sent on at all (PostsService would answer PERMISSION_DENIED or UNAUTHENTICATED to a user's token).
        Assert.Equal(StatusCode.Unimplemented, refused.StatusCode);
    }

    [Fact]
    public async Task Without_a_session_the_api_answers_401_and_sign_in_goes_to_the_provider_with_pkce()
    {
        using var stranger = new GatewayBrowser(fixture.Gateway.HttpAddress, "nobody@example.test");

        using var rest = await stranger.SendAsync(HttpMethod.Get, "/api/channels");
        Assert.Equal(HttpStatusCode.Unauthorized, rest.StatusCode);
        // No credentials at all is 401 even without the antiforgery header (a script that forgot its token).
        using var bare = await stranger.SendAsync(HttpMethod.Post, "/api/channels", "{}", antiforgery: false);
        Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
        using var grpcWeb = stranger.GrpcWeb();
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            new ChannelService.ChannelServiceClient(grpcWeb).ListChannelsAsync(new ListChannelsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        using var login = await stranger.GetAsync("/bff/login?returnUrl=https://evil.example/");
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var authorize = login.Headers.Location!;
        Assert.StartsWith(new Uri(fixture.Identity.HttpAddress, "/connect/authorize").AbsoluteUri, authorize.AbsoluteUri, StringComparison.Ordinal);
        var query = System.Web.HttpUtility.ParseQueryString(authorize.Query);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal("socialsync-web", query["client_id"]);
        Assert.Equal(fixture.CallbackUri.AbsoluteUri, query["redirect_uri"]);
    }

    [Fact]
    public async Task A_sign_in_that_asks_to_return_to_another_site_returns_to_the_app_instead()
    {
        using var browser = await fixture.SignedInAsync();
        using var provider = new IdentityBrowser(fixture.Identity.HttpAddress);
        var page = await provider.GetAsync("/account/signin");
        await provider.SubmitAsync(page, new Dictionary<string, string> { ["email"] = browser.Email, ["password"] = GatewayFixture.Password });

        using var login = await browser.GetAsync("/bff/login?returnUrl=//evil.example/path");
        var back = await provider.GetAsync(login.Headers.Location!.PathAndQuery);
        using var signedIn = await browser.GetAsync(back.LeftTo!.PathAndQuery);

        Assert.Equal("/", signedIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task A_state_changing_call_with_the_session_but_without_the_antiforgery_header_is_refused_and_changes_nothing()
    {
        using var browser = await fixture.SignedInAsync();

        using var forged = await browser.SendAsync(HttpMethod.Post, "/api/channels",
            """{"platform":"PLATFORM_WHATSAPP","accountId":"1065550001002","accessToken":"EAAG-forged","settings":{"recipients":["+16505551234"]}}""",
            antiforgery: false);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using var forgedGrpcWeb = browser.GrpcWeb(antiforgery: false);
        await Assert.ThrowsAsync<RpcException>(() =>
            new ChannelService.ChannelServiceClient(forgedGrpcWeb).CreateChannelAsync(WhatsAppChannel("1065550001003")).ResponseAsync);

        using var grpcWeb = browser.GrpcWeb();
        var channels = await new ChannelService.ChannelServiceClient(grpcWeb).ListChannelsAsync(new ListChannelsRequest());
        Assert.Empty(channels.Channels);
    }

    [Fact]
    public async Task Calls_racing_to_renew_the_sessions_access_token_share_one_renewal_and_all_succeed()
    {
        // The fixture's gateway renews on every call, and the provider refuses a refresh token used twice: without
        // one shared renewal, all but one of these calls would spend the same refresh token and end the session.
        using var browser = await fixture.SignedInAsync();
        using var grpcWeb = browser.GrpcWeb();
        var client = new ChannelService.ChannelServiceClient(grpcWeb);

        var calls = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.ListChannelsAsync(new ListChannelsRequest()).ResponseAsync));
        Assert.Equal(8, calls.Length);
        for (var i = 0; i < 3; i++)
        {
            await client.ListChannelsAsync(new ListChannelsRequest());
        }
    }

    [Fact]
    public async Task Sign_out_needs_the_sessions_own_id_and_then_ends_the_session()
    {
        using var browser = await fixture.SignedInAsync();
        using var user = await browser.SendAsync(HttpMethod.Get, "/bff/user");
        var logoutUrl = JsonDocument.Parse(await user.Content.ReadAsStringAsync()).RootElement.GetProperty("logoutUrl").GetString()!;

        using var forged = await browser.GetAsync("/bff/logout?sid=0123456789abcdef");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        using var stillIn = await browser.SendAsync(HttpMethod.Get, "/api/channels");
        Assert.Equal(HttpStatusCode.OK, stillIn.StatusCode);

        using var logout = await browser.GetAsync(logoutUrl);
        Assert.Equal(HttpStatusCode.Redirect, logout.StatusCode);
        Assert.StartsWith(new Uri(fixture.Identity.HttpAddress, "/connect/endsession").AbsoluteUri, logout.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        using var after = await browser.SendAsync(HttpMethod.Get, "/api/channels");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task A_session_begun_at_one_gateway_replica_is_read_by_another_that_shares_its_key_ring()
    {
        using var browser = await fixture.SignedInAsync();
        await using var replica = await fixture.AnotherGatewayAsync(fixture.KeyRing);
        using var atReplica = browser.At(replica.HttpAddress);

        using var user = await atReplica.SendAsync(HttpMethod.Get, "/bff/user");
        Assert.Equal(HttpStatusCode.OK, user.StatusCode);
        using var who = JsonDocument.Parse(await user.Content.ReadAsStringAsync());
        Assert.Equal(browser.Email, who.RootElement.GetProperty("email").GetString());
        // The replica renews the session's access token (RefreshBefore) and calls the API as the same user.
        using var grpcWeb = atReplica.GrpcWeb();
        var workspaces = await new WorkspaceService.WorkspaceServiceClient(grpcWeb).ListWorkspacesAsync(new ListWorkspacesRequest());
        Assert.Equal(who.RootElement.GetProperty("id").GetString(), Assert.Single(workspaces.Workspaces).Id);
    }

    [Fact]
    public async Task A_gateway_on_another_machine_without_the_shared_key_ring_cannot_read_the_session()
    {
        await using var stranger = await fixture.AnotherGatewayAsync(keyRing: null);
        using var browser = await fixture.SignedInAsync();
        using var atStranger = browser.At(stranger.HttpAddress);

        using var user = await atStranger.SendAsync(HttpMethod.Get, "/bff/user");
        Assert.Equal(HttpStatusCode.Unauthorized, user.StatusCode);
    }

    [Fact]
    public async Task Replicas_starting_together_on_an_empty_key_ring_make_one_key_between_them()
    {
        // Each would otherwise make a first key of its own, and could go on sealing sessions the other cannot open.
        var keyRing = fixture.NewFolder();
        var started = await Task.WhenAll(fixture.AnotherGatewayAsync(keyRing), fixture.AnotherGatewayAsync(keyRing));
        await using var first = started[0];
        await using var second = started[1];

        Assert.Single(Directory.GetFiles(keyRing, "key-*.xml"));
    }

    [Fact]
    public async Task A_replica_waits_while_another_loads_the_key_ring_and_makes_no_key_of_its_own_meanwhile()
    {
        var keyRing = fixture.NewFolder();
        // Held as a replica holds it while it loads the ring (SessionKeyRing.LockFileName).
        var loading = new FileStream(Path.Combine(keyRing, "key-ring.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var starting = fixture.AnotherGatewayAsync(keyRing);
        try
        {
            Assert.NotSame(starting, await Task.WhenAny(starting, Task.Delay(TimeSpan.FromSeconds(5))));
            Assert.Empty(Directory.GetFiles(keyRing, "key-*.xml"));
        }
        finally
        {
            // Let the gateway finish starting, then stop it, whatever was asserted: it must not outlive the run.
            await loading.DisposeAsync();
            await (await starting).DisposeAsync();
        }
        Assert.Single(Directory.GetFiles(keyRing, "key-*.xml"));
    }

    [Fact]
    public async Task A_scripts_own_bearer_token_passes_through_without_a_session()
    {
        using var browser = await fixture.SignedInAsync();
        using var provider = new IdentityBrowser(fixture.Identity.HttpAddress);
        var pkce = IdentityBrowser.Pkce.Create();
        var code = await provider.AuthorizeAsync("socialsync-web", fixture.CallbackUri, pkce, browser.Email, GatewayFixture.Password);
        var token = (await provider.RedeemCodeAsync("socialsync-web", fixture.CallbackUri, code, pkce.Verifier)).AccessToken!;

        // No cookie, no antiforgery header: a bearer token is not something a browser attaches by itself.
        using var grpcWeb = GrpcChannel.ForAddress(fixture.Gateway.HttpAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new HttpClientHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        var auth = new Metadata { { "Authorization", $"Bearer {token}" } };
        var channel = await new ChannelService.ChannelServiceClient(grpcWeb).CreateChannelAsync(WhatsAppChannel("1065550001004"), auth);

        using var browsersView = browser.GrpcWeb();
        var seen = await new ChannelService.ChannelServiceClient(browsersView).GetChannelAsync(new GetChannelRequest { Id = channel.Id });
        Assert.Equal(channel.Id, seen.Id);

        using var http = new HttpClient { BaseAddress = fixture.Gateway.HttpAddress };
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/channels");
        forged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token");
        using var refused = await http.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }
}
