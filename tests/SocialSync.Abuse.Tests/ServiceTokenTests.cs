using Grpc.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Services are not users: the internal API accepts only tokens signed with the service key, which no issuer of user
/// tokens holds. A user token that claims the service role is refused whoever signed it, on every internal RPC.
/// </summary>
[Collection(AbuseCollection.Name)]
public sealed class ServiceTokenTests(PostsServiceFixture fixture)
{
    public static TheoryData<string> ServiceRoleClaimants => new()
    {
        "user key",
        "user key, role among others",
        "user key, a service's subject",
        "OIDC issuer, RS256",
        "OIDC issuer, ES256",
    };

    private string UserTokenClaimingTheServiceRole(string signer)
    {
        var user = Guid.NewGuid().ToString();
        var withUserKey = new TokenIssuer(TestTokens.Users, TimeProvider.System);
        return signer switch
        {
            "user key" => withUserKey.Create(new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = user, [SocialSyncAuth.RoleClaim] = SocialSyncAuth.ServiceRole,
            }, TimeSpan.FromHours(1)),
            "user key, role among others" => withUserKey.Create(new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = user, [SocialSyncAuth.RoleClaim] = new[] { "user", SocialSyncAuth.ServiceRole },
            }, TimeSpan.FromHours(1)),
            "user key, a service's subject" => withUserKey.CreateServiceToken("PublisherService", TimeSpan.FromHours(1)),
            "OIDC issuer, RS256" => fixture.Issuer.CreateToken(fixture.Issuer.AddKey("RS256"), Guid.NewGuid(),
                new Dictionary<string, object> { [SocialSyncAuth.RoleClaim] = SocialSyncAuth.ServiceRole }),
            "OIDC issuer, ES256" => fixture.Issuer.CreateToken(fixture.Issuer.AddKey("ES256"), Guid.NewGuid(),
                new Dictionary<string, object> { [SocialSyncAuth.RoleClaim] = SocialSyncAuth.ServiceRole }),
            _ => throw new ArgumentOutOfRangeException(nameof(signer)),
        };
    }

    /// <summary>The status every internal RPC answers with <paramref name="auth"/>, by method name.</summary>
    private async Task<Dictionary<string, StatusCode>> CallEveryInternalRpcAsync(Metadata auth)
    {
        var statuses = new Dictionary<string, StatusCode>();
        foreach (var rpc in Support.InternalRpcs)
        {
            statuses[rpc.Name] = await Support.CallAsync(fixture.Channel.CreateCallInvoker(), rpc, auth);
        }
        return statuses;
    }

    [Theory]
    [MemberData(nameof(ServiceRoleClaimants))]
    public async Task A_user_token_claiming_the_service_role_is_refused_on_every_internal_rpc_and_changes_nothing(string signer)
    {
        await Support.CreateUserWithPostAsync(fixture);
        var before = await fixture.SnapshotAsync();
        var counts = await fixture.CountRowsAsync();

        var statuses = await CallEveryInternalRpcAsync(TestTokens.Bearer(UserTokenClaimingTheServiceRole(signer)));

        Assert.True(statuses.Count >= 11, $"the internal API's descriptor lists {statuses.Count} RPCs");
        Assert.All(statuses, s => Assert.True(s.Value == StatusCode.Unauthenticated, $"{s.Key}: {s.Value}"));
        Assert.Equal(before, await fixture.SnapshotAsync());
        Assert.Equal(counts, await fixture.CountRowsAsync());
        // The token is refused as a whole, not only on the internal API.
        var onPublicApi = await Support.RefusedAsync(() => fixture.PostClient.ListPostsAsync(new ListPostsRequest(),
            TestTokens.Bearer(UserTokenClaimingTheServiceRole(signer)), Support.In(10)));
        Assert.Equal(StatusCode.Unauthenticated, onPublicApi.StatusCode);
    }

    [Fact]
    public async Task A_service_token_signed_with_the_user_key_is_refused_on_every_internal_rpc()
    {
        var forged = new TokenIssuer(TestTokens.Users with { Issuer = TestTokens.Services.Issuer, Audience = TestTokens.Services.Audience },
            TimeProvider.System).CreateServiceToken("SchedulerService", TimeSpan.FromHours(1));
        var before = await fixture.SnapshotAsync();

        var statuses = await CallEveryInternalRpcAsync(TestTokens.Bearer(forged));

        Assert.All(statuses, s => Assert.True(s.Value == StatusCode.Unauthenticated, $"{s.Key}: {s.Value}"));
        Assert.Equal(before, await fixture.SnapshotAsync());
    }

    [Fact]
    public async Task A_service_token_signed_with_the_service_key_passes_the_internal_api()
    {
        // The control for the refusals above: the same calls, made the way the services make them, are not refused.
        var statuses = await CallEveryInternalRpcAsync(TestTokens.ForService());

        Assert.DoesNotContain(statuses, s => s.Value is StatusCode.Unauthenticated or StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task A_token_signed_with_any_key_written_in_the_repository_is_refused_in_Production()
    {
        // A value under 32 characters cannot sign HS256 (and no service starts with one: SecretSettingsTests).
        var keys = RepositorySecrets.Keys().Where(k => k.Length >= SecretSettings.MinimumLength).ToList();
        Assert.Contains(UserTokenOptions.DevelopmentSigningKey, keys);
        Assert.Contains(ServiceTokenOptions.DevelopmentSigningKey, keys);
        foreach (var key in keys)
        {
            var user = new TokenIssuer(TestTokens.Users with { SigningKey = key }, TimeProvider.System).CreateUserToken(Guid.NewGuid(), TimeSpan.FromHours(1));
            var service = new TokenIssuer(TestTokens.Services with { SigningKey = key }, TimeProvider.System).CreateServiceToken("SchedulerService", TimeSpan.FromHours(1));

            var asUser = await Support.RefusedAsync(() => fixture.PostClient.ListPostsAsync(new ListPostsRequest(), TestTokens.Bearer(user), Support.In(10)));
            var asService = await Support.RefusedAsync(() => fixture.InternalClient.ListQueuedPostsAsync(new ListQueuedPostsRequest(), TestTokens.Bearer(service), Support.In(10)));

            Assert.True(asUser.StatusCode == StatusCode.Unauthenticated, $"a user token signed with '{key}': {asUser.StatusCode}");
            Assert.True(asService.StatusCode == StatusCode.Unauthenticated, $"a service token signed with '{key}': {asService.StatusCode}");
        }
    }
}
