using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

[Collection(PostsServiceCollection.Name)]
public sealed class SecurityTests(PostsServiceFixture fixture)
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    public static TheoryData<string, string?> BadTokens => new()
    {
        { "missing", null },
        { "garbage", "not-a-jwt" },
        { "wrong key", new TokenIssuer(TestTokens.Users with { SigningKey = "another-signing-key-that-is-long-enough-0123456789" }, TimeProvider.System)
            .CreateUserToken(Guid.NewGuid(), TimeSpan.FromHours(1)) },
        { "expired", new TokenIssuer(TestTokens.Users, new FixedTime(DateTimeOffset.UtcNow.AddHours(-3)))
            .CreateUserToken(Guid.NewGuid(), TimeSpan.FromHours(1)) },
        { "wrong audience", new TokenIssuer(TestTokens.Users with { Audience = "someone-else" }, TimeProvider.System)
            .CreateUserToken(Guid.NewGuid(), TimeSpan.FromHours(1)) },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_missing_or_bad_token_is_UNAUTHENTICATED_on_every_service(string why, string? token)
    {
        var headers = token is null ? new Metadata() : TestTokens.Bearer(token);
        var ex = await Expect.Status(StatusCode.Unauthenticated, () => fixture.Posts.ListPostsAsync(new ListPostsRequest(), headers).ResponseAsync);
        Assert.True(!ex.Status.Detail.Contains("   at ", StringComparison.Ordinal), $"{why}: no stack trace in the status");
        await Expect.Status(StatusCode.Unauthenticated, () => fixture.Channels.ListChannelsAsync(new ListChannelsRequest(), headers).ResponseAsync);
        await Expect.Status(StatusCode.Unauthenticated, () => fixture.Internal.ListQueuedPostsAsync(new ListQueuedPostsRequest(), headers).ResponseAsync);
    }

    [Fact]
    public async Task A_service_token_on_the_public_api_is_PERMISSION_DENIED()
    {
        var service = TestTokens.ForService();
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Posts.ListPostsAsync(new ListPostsRequest(), service).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Posts.GetPostStatisticsAsync(new GetPostStatisticsRequest(), service).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Channels.ListChannelsAsync(new ListChannelsRequest(), service).ResponseAsync);
    }

    [Fact]
    public async Task A_user_token_on_the_internal_api_is_PERMISSION_DENIED_and_a_service_token_passes()
    {
        var user = fixture.NewUser();
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Internal.ListQueuedPostsAsync(new ListQueuedPostsRequest(), user.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest(), user.Headers).ResponseAsync);
        await Expect.Status(StatusCode.PermissionDenied, () => fixture.Internal.StartRunsAsync(
            new StartRunsRequest { Runs = { new RunToStart { PostId = Guid.NewGuid().ToString(), Attempt = 1 } } }, user.Headers).ResponseAsync);
        var queued = await fixture.Internal.ListQueuedPostsAsync(new ListQueuedPostsRequest { PageSize = 1 }, TestTokens.ForService());
        Assert.NotNull(queued);
    }

    [Fact]
    public async Task Another_users_post_is_NOT_FOUND_for_every_call()
    {
        var owner = fixture.NewUser();
        var intruder = fixture.NewUser();
        var post = await fixture.CreatePostAsync(owner, await fixture.CreateWhatsAppChannelAsync(owner));
        var h = intruder.Headers;
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, h).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = "x" } }, h).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id }, h).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.DeletePostAsync(new DeletePostRequest { Id = post.Id }, h).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Posts.ListPostRunsAsync(new ListPostRunsRequest { Id = post.Id }, h).ResponseAsync);
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), h)).Posts);
        Assert.Equal(PostStatus.Queued, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.Id }, owner.Headers)).Status);
    }

    [Fact]
    public async Task Row_level_security_limits_a_query_without_a_user_filter_to_that_users_rows()
    {
        var a = fixture.NewUser();
        var b = fixture.NewUser();
        var channelA = await fixture.CreateWhatsAppChannelAsync(a);
        await fixture.CreatePostAsync(a, channelA);
        await fixture.CreatePostAsync(a, channelA);
        await fixture.CreatePostAsync(b, await fixture.CreateWhatsAppChannelAsync(b));

        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        async Task<long> CountAsync(string table, NpgsqlTransaction transaction)
        {
            await using var count = new NpgsqlCommand($"select count(*) from {table}", connection, transaction);
            return (long)(await count.ExecuteScalarAsync())!;
        }

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var set = new NpgsqlCommand("select set_config('app.user_id', @u, true)", connection, transaction);
            set.Parameters.AddWithValue("u", a.Id.ToString());
            await set.ExecuteNonQueryAsync();
            Assert.Equal(2, await CountAsync("scheduled_posts", transaction));
            Assert.Equal(1, await CountAsync("channels", transaction));
            // Writing a row into another user's (personal) workspace is refused by the policy's check.
            await using var forge = new NpgsqlCommand(
                "insert into channels (user_id, workspace_id, platform, account_id, access_token_encrypted) values (@a, @b, 'whatsapp', '1', '\\x00')",
                connection, transaction);
            forge.Parameters.AddWithValue("a", a.Id);
            forge.Parameters.AddWithValue("b", b.Id);
            var denied = await Assert.ThrowsAsync<PostgresException>(() => forge.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            Assert.Equal(0, await CountAsync("scheduled_posts", transaction));
            Assert.Equal(0, await CountAsync("channels", transaction));
            Assert.Equal(0, await CountAsync("post_runs", transaction));
        }
        // The owner sees everyone's rows: the filter above is the policy's, not an empty table's.
        var all = (long)(await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where user_id = any(@ids)", ("ids", new[] { a.Id, b.Id })))!;
        Assert.Equal(3, all);
    }

    [Fact]
    public async Task Tokens_never_appear_in_the_service_output()
    {
        var user = fixture.NewUser();
        var secret = "EAAG-log-canary-" + Guid.NewGuid().ToString("N");
        var channel = await fixture.CreateWhatsAppChannelAsync(user, secret);
        await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = channel.Id, AccessToken = secret + "-rotated" }, user.Headers);
        await Expect.Status(StatusCode.Unauthenticated, () => fixture.Posts.ListPostsAsync(new ListPostsRequest(), TestTokens.Bearer(user.Token + "x")).ResponseAsync);
        using var rest = await fixture.Http.SendAsync(fixture.Rest(HttpMethod.Get, "/api/channels", user));
        var body = await rest.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, body);
        Assert.DoesNotContain(secret, fixture.Service.RecentOutput);
        Assert.DoesNotContain(user.Token, fixture.Service.RecentOutput);
    }
}
