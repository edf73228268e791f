using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using Xunit.Abstractions;

namespace SocialSync.Abuse.Tests;

/// <summary>User B against user A's channel and post: NOT_FOUND every time (existence does not leak), nothing changes.</summary>
[Collection(AbuseCollection.Name)]
public sealed class IsolationTests(PostsServiceFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Another_users_post_and_channel_are_not_found_for_every_call_and_nothing_changes()
    {
        var a = await Support.CreateUserWithPostAsync(fixture);
        var b = await Support.CreateUserWithPostAsync(fixture);
        var before = await fixture.SnapshotAsync();
        var counts = await fixture.CountRowsAsync();
        var auth = b.Auth;
        var posts = fixture.PostClient;
        var channels = fixture.ChannelClient;

        var attempts = new List<(string Call, Func<AsyncUnaryCall<object>> Run)>();
        void Add<T>(string name, Func<AsyncUnaryCall<T>> call) where T : class =>
            attempts.Add((name, () => Erase(call())));

        Add("GetPost", () => posts.GetPostAsync(new GetPostRequest { Id = a.Post.Id }, auth, Support.In(10)));
        Add("ListPostRuns", () => posts.ListPostRunsAsync(new ListPostRunsRequest { Id = a.Post.Id }, auth, Support.In(10)));
        Add("CancelPost", () => posts.CancelPostAsync(new CancelPostRequest { Id = a.Post.Id }, auth, Support.In(10)));
        Add("UpdatePost", () => posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = a.Post.Id,
            Content = new Content { Text = "hijacked" },
            UpdateMask = new FieldMask { Paths = { "content" } },
        }, auth, Support.In(10)));
        Add("UpdatePost (move onto B's channel time)", () => posts.UpdatePostAsync(new UpdatePostRequest
        {
            Id = a.Post.Id,
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
            UpdateMask = new FieldMask { Paths = { "publish_at" } },
        }, auth, Support.In(10)));
        Add("DeletePost", () => posts.DeletePostAsync(new DeletePostRequest { Id = a.Post.Id }, auth, Support.In(10)));
        Add("CreatePost on A's channel", () => posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = a.Channel.Id,
            Content = new Content { Text = "attached to someone else's channel" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, auth, Support.In(10)));
        Add("GetChannel", () => channels.GetChannelAsync(new GetChannelRequest { Id = a.Channel.Id }, auth, Support.In(10)));
        Add("UpdateChannel", () => channels.UpdateChannelAsync(new UpdateChannelRequest
        {
            Id = a.Channel.Id,
            DisplayName = "hijacked",
            AccessToken = "EAAattacker",
            UpdateMask = new FieldMask { Paths = { "display_name", "access_token" } },
        }, auth, Support.In(10)));
        Add("PauseChannel", () => channels.PauseChannelAsync(new PauseChannelRequest { Id = a.Channel.Id }, auth, Support.In(10)));
        Add("ResumeChannel", () => channels.ResumeChannelAsync(
            new ResumeChannelRequest { Id = a.Channel.Id, PublishLatePosts = true }, auth, Support.In(10)));
        Add("DeleteChannel", () => channels.DeleteChannelAsync(new DeleteChannelRequest { Id = a.Channel.Id }, auth, Support.In(10)));

        var unimplemented = new List<string>();
        foreach (var (name, run) in attempts)
        {
            var refused = await Support.RefusedAsync(run);
            if (refused.StatusCode == StatusCode.Unimplemented)
            {
                // An RPC of the public API not built yet (issue-3); it joins this check once it exists.
                unimplemented.Add(name);
                continue;
            }
            Assert.True(refused.StatusCode == StatusCode.NotFound, $"{name}: {refused.StatusCode} {refused.Status.Detail}");
            Assert.DoesNotContain(a.UserId.ToString(), refused.Status.Detail, StringComparison.Ordinal);
        }
        output.WriteLine(unimplemented.Count == 0 ? "every RPC checked" : $"not implemented yet: {string.Join(", ", unimplemented)}");
        Assert.True(unimplemented.Count <= 3, $"too many unimplemented: {string.Join(", ", unimplemented)}");

        Assert.Equal(before, await fixture.SnapshotAsync());
        Assert.Equal(counts, await fixture.CountRowsAsync());
    }

    [Fact]
    public async Task Listing_never_shows_another_users_posts_or_channels()
    {
        var a = await Support.CreateUserWithPostAsync(fixture);
        var b = await Support.CreateUserWithPostAsync(fixture);

        var all = await fixture.PostClient.ListPostsAsync(new ListPostsRequest { PageSize = 100 }, b.Auth, Support.In(10));
        Assert.Equal([b.Post.Id], all.Posts.Select(p => p.Id));
        Assert.Equal(1, all.TotalSize);

        // Filtering by A's channel reveals nothing: an empty page or NOT_FOUND, never A's posts.
        try
        {
            var filtered = await fixture.PostClient.ListPostsAsync(new ListPostsRequest { ChannelId = a.Channel.Id }, b.Auth, Support.In(10));
            Assert.Empty(filtered.Posts);
            Assert.Equal(0, filtered.TotalSize);
        }
        catch (RpcException ex)
        {
            Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        }

        var channels = await fixture.ChannelClient.ListChannelsAsync(new ListChannelsRequest { PageSize = 100 }, b.Auth, Support.In(10));
        Assert.Equal([b.Channel.Id], channels.Channels.Select(c => c.Id));
    }

    [Fact]
    public async Task Over_rest_another_users_post_is_404_and_unchanged()
    {
        var a = await Support.CreateUserWithPostAsync(fixture);
        var b = await Support.CreateUserWithPostAsync(fixture);
        var before = await fixture.SnapshotAsync();
        var token = TestTokens.User(b.UserId);

        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Get, $"/api/posts/{a.Post.Id}", null),
            (HttpMethod.Get, $"/api/posts/{a.Post.Id}/runs", null),
            (HttpMethod.Delete, $"/api/posts/{a.Post.Id}", null),
            (HttpMethod.Post, $"/api/posts/{a.Post.Id}:cancel", "{}"),
            (HttpMethod.Get, $"/api/channels/{a.Channel.Id}", null),
            (HttpMethod.Post, "/api/posts", $$"""{"channel_id":"{{a.Channel.Id}}","content":{"text":"x"},"publish_at":"{{DateTimeOffset.UtcNow.AddHours(1):O}}"}"""),
        })
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }
            using var response = await fixture.Http.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        Assert.Equal(before, await fixture.SnapshotAsync());
    }

    private static AsyncUnaryCall<object> Erase<T>(AsyncUnaryCall<T> call) where T : class
    {
        async Task<object> Response() => await call.ResponseAsync;
        return new(Response(), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }
}
