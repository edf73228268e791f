using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// Channel access tokens go in and never come out: not in a response (gRPC, REST, errors), not in a log line of the
/// service (captured whole, at Debug), not in anything it exports over OTLP (traces, logs, metrics).
/// </summary>
[Collection(AbuseCollection.Name)]
public sealed class SecretsTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task Access_tokens_never_appear_in_responses_logs_or_telemetry()
    {
        var secrets = new List<string>();
        string NewSecret()
        {
            var secret = $"EAAsecret{Guid.NewGuid():N}";
            secrets.Add(secret);
            return secret;
        }
        var seen = new StringBuilder();

        // gRPC: create, read, list, and a refused create that carries a token.
        var owner = await Support.CreateUserWithPostAsync(fixture, NewSecret());
        var channel = owner.Channel;
        seen.Append(JsonFormatter.Default.Format(channel));
        seen.Append(JsonFormatter.Default.Format(await fixture.ChannelClient.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, owner.Auth, Support.In(10))));
        seen.Append(JsonFormatter.Default.Format(await fixture.ChannelClient.ListChannelsAsync(new ListChannelsRequest(), owner.Auth, Support.In(10))));
        seen.Append(Convert.ToBase64String(channel.ToByteArray()));
        var refused = await Support.RefusedAsync(() => fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "",
            AccessToken = NewSecret(),
            Settings = new ChannelSettings { Recipients = { "not a phone" } },
        }, owner.Auth, Support.In(10)));
        seen.Append(refused.Status.Detail).Append(string.Join(",", refused.Trailers.Select(t => t.IsBinary ? Convert.ToBase64String(t.ValueBytes) : t.Value)));
        var tooLong = NewSecret() + new string('x', 5000);
        secrets[^1] = tooLong[..40];
        var refusedLong = await Support.RefusedAsync(() => fixture.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "1",
            AccessToken = tooLong,
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, owner.Auth, Support.In(10)));
        seen.Append(refusedLong.Status.Detail);

        // A token rotation, when UpdateChannel exists.
        try
        {
            var rotated = await fixture.ChannelClient.UpdateChannelAsync(new UpdateChannelRequest
            {
                Id = channel.Id,
                AccessToken = NewSecret(),
                UpdateMask = new FieldMask { Paths = { "access_token" } },
            }, owner.Auth, Support.In(10));
            seen.Append(JsonFormatter.Default.Format(rotated));
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
        }

        // REST: create and read a channel.
        var restUser = Guid.NewGuid();
        var restToken = NewSecret();
        using (var create = new HttpRequestMessage(HttpMethod.Post, "/api/channels"))
        {
            create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.User(restUser));
            create.Content = new StringContent($$$"""{"platform":"PLATFORM_WHATSAPP","account_id":"1098765432102","access_token":"{{{restToken}}}","settings":{"recipients":["+16505551234"]}}""", Encoding.UTF8, "application/json");
            using var response = await fixture.Http.SendAsync(create);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            seen.Append(body);
        }
        using (var list = new HttpRequestMessage(HttpMethod.Get, "/api/channels"))
        {
            list.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.User(restUser));
            using var response = await fixture.Http.SendAsync(list);
            seen.Append(await response.Content.ReadAsStringAsync());
        }

        // The one place a token legitimately leaves: StartRuns, to PublisherService, with a service credential.
        var due = await fixture.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = "due now" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddMilliseconds(200)),
        }, owner.Auth, Support.In(10));
        await Task.Delay(500);
        var claim = await fixture.InternalClient.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { due.Id } }, TestTokens.ForService(), Support.In(10));
        var claimed = Assert.Single(claim.Claimed);
        var run = await fixture.InternalClient.StartRunsAsync(new StartRunsRequest { Runs = { new RunToStart { PostId = due.Id, Attempt = claimed.Attempt } } },
            TestTokens.ForService(), Support.In(10));
        Assert.StartsWith("EAAsecret", Assert.Single(run.Channels).AccessToken, StringComparison.Ordinal);

        await fixture.FlushTelemetryAsync();

        var responses = seen.ToString();
        var logs = string.Join('\n', fixture.OutputLines);
        var telemetry = fixture.Telemetry.ToList();
        Assert.Contains(telemetry, t => t.Path == "/v1/traces");
        Assert.Contains(telemetry, t => t.Path == "/v1/logs");
        Assert.True(logs.Length > 0, "the service's output was not captured");
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, responses, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
            var bytes = Encoding.UTF8.GetBytes(secret);
            var leaked = telemetry.Where(t => t.Body.AsSpan().IndexOf(bytes) >= 0).Select(t => t.Path).ToList();
            Assert.True(leaked.Count == 0, $"an access token was exported in {string.Join(", ", leaked)}");
        }
    }
}
