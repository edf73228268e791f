using System.Net;
using System.Text.Json;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>The API's original REST routes, through JSON transcoding on the HTTP/1.1 endpoint.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class RestApiTests(PostsServiceFixture fixture)
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, TestUser? user, string? json = null)
    {
        using var response = await fixture.Http.SendAsync(fixture.Rest(method, path, user, json));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task<string> CreateChannelAsync(TestUser user)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/api/channels", user, """
            {"platform": "whatsapp", "account_id": "106540352242922", "access_token": "EAAG-rest-token",
             "display_name": "Shop", "settings": {"recipients": ["+16505551234"]}}
            """);
        Assert.Equal(HttpStatusCode.Created, status);
        return body.GetProperty("id").GetString()!;
    }

    private static string OriginalExampleBody(string channelId, DateTimeOffset publishAt) =>
        $$"""{"channel_id": "{{channelId}}", "content": {"text": "Hello", "media": [{"type": "image", "url": "https://example.com/image.jpg"}]}, "publish_at": "{{publishAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}"}""";

    [Fact]
    public async Task The_seeds_create_example_works_as_written_and_answers_201_with_the_post()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var publishAt = new DateTimeOffset(DateTimeOffset.UtcNow.Year + 1, 10, 20, 14, 30, 0, TimeSpan.Zero);
        var (status, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, publishAt));

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("QUEUED", post.GetProperty("status").GetString());
        Assert.Equal(0, post.GetProperty("retryCount").GetInt32());
        Assert.Equal(channelId, post.GetProperty("channelId").GetString());
        Assert.Equal("IMAGE", post.GetProperty("content").GetProperty("media")[0].GetProperty("type").GetString());
        Assert.Equal(publishAt, post.GetProperty("publishAt").GetDateTimeOffset());
        // The same post over gRPC: the word "image" became MEDIA_TYPE_IMAGE.
        var viaGrpc = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = post.GetProperty("id").GetString() }, user.Headers);
        Assert.Equal(MediaType.Image, viaGrpc.Content.Media[0].Type);
    }

    [Fact]
    public async Task The_seeds_list_query_filters_and_pages()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, DateTimeOffset.UtcNow.AddHours(1 + i)));
            ids.Add(post.GetProperty("id").GetString()!);
        }
        await SendAsync(HttpMethod.Delete, $"/api/posts/{ids[0]}", user);

        var (status, list) = await SendAsync(HttpMethod.Get, $"/api/posts?status=queued&platform=whatsapp&channel_id={channelId}&limit=1&offset=1", user);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal([ids[1]], list.GetProperty("posts").EnumerateArray().Select(p => p.GetProperty("id").GetString()));
        Assert.Equal(2, list.GetProperty("totalSize").GetInt32());
        var (_, cancelled) = await SendAsync(HttpMethod.Get, "/api/posts?status=CANCELLED&channel_id=", user);
        Assert.Equal([ids[0]], cancelled.GetProperty("posts").EnumerateArray().Select(p => p.GetProperty("id").GetString()));
        var (_, byEnumWord) = await SendAsync(HttpMethod.Get, "/api/posts?status_filter=queued&platform_filter=whatsapp", user);
        Assert.Equal(2, byEnumWord.GetProperty("posts").GetArrayLength());
    }

    [Fact]
    public async Task Get_patch_delete_runs_and_statistics_routes()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var (_, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, DateTimeOffset.UtcNow.AddHours(2)));
        var id = post.GetProperty("id").GetString()!;

        var (getStatus, got) = await SendAsync(HttpMethod.Get, $"/api/posts/{id}", user);
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal(id, got.GetProperty("id").GetString());

        var (stats, statistics) = await SendAsync(HttpMethod.Get, "/api/posts/statistics", user);
        Assert.Equal(HttpStatusCode.OK, stats);
        Assert.Equal(1, statistics.GetProperty("queued").GetInt64());

        var later = DateTimeOffset.UtcNow.AddHours(6);
        var (patchStatus, patched) = await SendAsync(HttpMethod.Patch, $"/api/posts/{id}", user,
            $$"""{"content": {"text": "Edited"}, "publish_at": "{{later.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}", "etag": "{{post.GetProperty("etag").GetString()}}"}""");
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal("Edited", patched.GetProperty("content").GetProperty("text").GetString());
        Assert.Empty(patched.GetProperty("content").GetProperty("media").EnumerateArray());

        var (runsStatus, runs) = await SendAsync(HttpMethod.Get, $"/api/posts/{id}/runs?limit=5", user);
        Assert.Equal(HttpStatusCode.OK, runsStatus);
        Assert.Equal(JsonValueKind.Object, runs.ValueKind);

        var (deleteStatus, cancelled) = await SendAsync(HttpMethod.Delete, $"/api/posts/{id}", user);
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Equal("CANCELLED", cancelled.GetProperty("status").GetString());

        var (removeStatus, _) = await SendAsync(HttpMethod.Post, $"/api/posts/{id}:delete", user, "{}");
        Assert.Equal(HttpStatusCode.OK, removeStatus);
        var (goneStatus, _) = await SendAsync(HttpMethod.Get, $"/api/posts/{id}", user);
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
    }

    [Fact]
    public async Task Channel_routes_create_list_get_patch_delete()
    {
        var user = fixture.NewUser();
        var id = await CreateChannelAsync(user);
        var (listStatus, list) = await SendAsync(HttpMethod.Get, "/api/channels", user);
        Assert.Equal(HttpStatusCode.OK, listStatus);
        Assert.Equal([id], list.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        Assert.DoesNotContain("EAAG-rest-token", list.ToString());
        var (getStatus, channel) = await SendAsync(HttpMethod.Get, $"/api/channels/{id}", user);
        Assert.Equal(HttpStatusCode.OK, getStatus);
        Assert.Equal("WHATSAPP", channel.GetProperty("platform").GetString());
        var (patchStatus, paused) = await SendAsync(HttpMethod.Patch, $"/api/channels/{id}", user, """{"paused": true, "display_name": "Paused shop"}""");
        Assert.Equal(HttpStatusCode.OK, patchStatus);
        Assert.Equal("PAUSED", paused.GetProperty("state").GetString());
        Assert.Equal("Paused shop", paused.GetProperty("displayName").GetString());
        var (deleteStatus, _) = await SendAsync(HttpMethod.Delete, $"/api/channels/{id}", user);
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        var (goneStatus, _) = await SendAsync(HttpMethod.Get, $"/api/channels/{id}", user);
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
    }

    [Fact]
    public async Task Channel_pause_and_resume_routes_hold_and_release_its_queued_posts()
    {
        var user = fixture.NewUser();
        var id = await CreateChannelAsync(user);
        var (_, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(id, DateTimeOffset.UtcNow.AddDays(1)));
        var postId = post.GetProperty("id").GetString();
        Assert.Equal("1", post.GetProperty("etag").GetString());

        var (pauseStatus, paused) = await SendAsync(HttpMethod.Post, $"/api/channels/{id}:pause", user, "{}");
        Assert.Equal(HttpStatusCode.OK, pauseStatus);
        Assert.Equal("PAUSED", paused.GetProperty("state").GetString());
        // Each queued post gets a new version with its outbox row, so the index orders the removal after any older change.
        var (_, held) = await SendAsync(HttpMethod.Get, $"/api/posts/{postId}", user);
        Assert.Equal(("QUEUED", "2"), (held.GetProperty("status").GetString(), held.GetProperty("etag").GetString()));

        var (resumeStatus, resumed) = await SendAsync(HttpMethod.Post, $"/api/channels/{id}:resume", user, """{"publish_late_posts": true}""");
        Assert.Equal(HttpStatusCode.OK, resumeStatus);
        Assert.Equal("ACTIVE", resumed.GetProperty("state").GetString());
        var (_, released) = await SendAsync(HttpMethod.Get, $"/api/posts/{postId}", user);
        Assert.Equal(("QUEUED", "3"), (released.GetProperty("status").GetString(), released.GetProperty("etag").GetString()));
        Assert.Equal(post.GetProperty("publishAt").GetString(), released.GetProperty("publishAt").GetString());
    }

    [Fact]
    public async Task Errors_are_4xx_with_the_bad_fields_never_500()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var (_, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, DateTimeOffset.UtcNow.AddHours(2)));
        var id = post.GetProperty("id").GetString()!;

        var (badId, badIdBody) = await SendAsync(HttpMethod.Get, "/api/posts/not-a-uuid", user);
        Assert.Equal(HttpStatusCode.BadRequest, badId);
        Assert.Equal("id", badIdBody.GetProperty("details")[0].GetProperty("fieldViolations")[0].GetProperty("field").GetString());

        var (past, pastBody) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, DateTimeOffset.UtcNow.AddDays(-1)));
        Assert.Equal(HttpStatusCode.BadRequest, past);
        Assert.Contains("publish_at", pastBody.GetProperty("message").GetString());

        var cases = new (HttpMethod Method, string Path, string? Json, HttpStatusCode Expected)[]
        {
            (HttpMethod.Post, "/api/posts", """{"channel_id": "x", "content": {"media": [{"type": "banana", "url": "https://e.com/a.jpg"}]}}""", HttpStatusCode.BadRequest),
            (HttpMethod.Post, "/api/posts", "{not json", HttpStatusCode.BadRequest),
            (HttpMethod.Post, "/api/posts", OriginalExampleBody(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow.AddHours(1)), HttpStatusCode.NotFound),
            (HttpMethod.Get, "/api/posts?limit=500", null, HttpStatusCode.BadRequest),
            (HttpMethod.Get, "/api/posts?limit=abc", null, HttpStatusCode.BadRequest),
            (HttpMethod.Get, "/api/posts?status=sent", null, HttpStatusCode.BadRequest),
            (HttpMethod.Get, $"/api/posts/{Guid.NewGuid()}", null, HttpStatusCode.NotFound),
            (HttpMethod.Get, $"/api/posts/{id}/runs?limit=0x", null, HttpStatusCode.BadRequest),
            (HttpMethod.Patch, $"/api/posts/{id}", """{"content": {"text": "x"}, "etag": "12345"}""", HttpStatusCode.Conflict),
            (HttpMethod.Patch, $"/api/posts/{id}", """{"time_zone": "Atlantis/Capital"}""", HttpStatusCode.BadRequest),
            (HttpMethod.Patch, $"/api/channels/{channelId}", """{"settings": {"recipients": ["nope"]}}""", HttpStatusCode.BadRequest),
            (HttpMethod.Delete, $"/api/channels/{Guid.NewGuid()}", null, HttpStatusCode.NotFound),
        };
        foreach (var (method, path, json, expected) in cases)
        {
            var (status, _) = await SendAsync(method, path, user, json);
            Assert.True(status == expected, $"{method} {path} {json}: expected {expected}, got {status}");
        }

        // Another user's post is 404, never 403.
        var (otherStatus, _) = await SendAsync(HttpMethod.Get, $"/api/posts/{id}", fixture.NewUser());
        Assert.Equal(HttpStatusCode.NotFound, otherStatus);

        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'published' where id = @id", ("id", Guid.Parse(id)));
        var (published, _) = await SendAsync(HttpMethod.Patch, $"/api/posts/{id}", user, """{"content": {"text": "late"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, published); // FAILED_PRECONDITION maps to 400 in the transcoding's table
        var (cancelPublished, body) = await SendAsync(HttpMethod.Delete, $"/api/posts/{id}", user);
        Assert.Equal(HttpStatusCode.BadRequest, cancelPublished);
        Assert.Equal(9, body.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_seeds_limit_is_1_to_100_so_an_explicit_0_a_negative_or_101_is_400_naming_limit()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var (_, post) = await SendAsync(HttpMethod.Post, "/api/posts", user, OriginalExampleBody(channelId, DateTimeOffset.UtcNow.AddHours(2)));
        var id = post.GetProperty("id").GetString()!;

        foreach (var path in new[] { "/api/posts?limit=0", "/api/posts?limit=-1", "/api/posts?limit=101", "/api/posts?status=queued&limit=0&offset=0",
                     $"/api/posts/{id}/runs?limit=0", $"/api/posts/{id}/runs?limit=-3" })
        {
            var (status, body) = await SendAsync(HttpMethod.Get, path, user);
            Assert.True(status == HttpStatusCode.BadRequest, $"{path}: expected 400, got {status}");
            Assert.Equal(3, body.GetProperty("code").GetInt32());
            Assert.Equal("limit", body.GetProperty("details")[0].GetProperty("fieldViolations")[0].GetProperty("field").GetString());
        }

        // Without a limit the default applies; 1 and 100 are in range.
        foreach (var path in new[] { "/api/posts", "/api/posts?limit=1", "/api/posts?limit=100", $"/api/posts/{id}/runs" })
        {
            var (status, _) = await SendAsync(HttpMethod.Get, path, user);
            Assert.True(status == HttpStatusCode.OK, $"{path}: expected 200, got {status}");
        }
        // gRPC keeps AIP-158: page_size 0 (or none) is the default page.
        var page = await fixture.Posts.ListPostsAsync(new ListPostsRequest { PageSize = 0 }, user.Headers);
        Assert.Equal(id, Assert.Single(page.Posts).Id);
    }

    [Fact]
    public async Task A_request_id_sent_again_with_the_same_body_returns_the_first_post_and_with_another_body_is_409()
    {
        var user = fixture.NewUser();
        var channelId = await CreateChannelAsync(user);
        var publishAt = DateTimeOffset.UtcNow.AddHours(3);
        var body = $$"""{"channel_id": "{{channelId}}", "content": {"text": "Hello"}, "publish_at": "{{publishAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}}", "request_id": "rest-1"}""";

        var (firstStatus, first) = await SendAsync(HttpMethod.Post, "/api/posts", user, body);
        var (againStatus, again) = await SendAsync(HttpMethod.Post, "/api/posts", user, body);
        Assert.Equal(HttpStatusCode.Created, firstStatus);
        Assert.Equal(HttpStatusCode.Created, againStatus);
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());

        var (otherStatus, refused) = await SendAsync(HttpMethod.Post, "/api/posts", user, body.Replace("Hello", "Hello again", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Conflict, otherStatus);
        Assert.Equal(6, refused.GetProperty("code").GetInt32()); // ALREADY_EXISTS
        Assert.Contains("request_id 'rest-1'", refused.GetProperty("message").GetString());
        var (_, list) = await SendAsync(HttpMethod.Get, "/api/posts", user);
        Assert.Equal(1, list.GetProperty("totalSize").GetInt32());
    }

    [Fact]
    public async Task Without_a_valid_user_token_REST_answers_401_and_a_service_token_403()
    {
        foreach (var path in new[] { "/api/posts", "/api/posts/statistics", "/api/channels" })
        {
            var (none, _) = await SendAsync(HttpMethod.Get, path, null);
            Assert.Equal(HttpStatusCode.Unauthorized, none);
            using var bad = fixture.Rest(HttpMethod.Get, path, null);
            bad.Headers.Authorization = new("Bearer", "not-a-jwt");
            using var badResponse = await fixture.Http.SendAsync(bad);
            Assert.Equal(HttpStatusCode.Unauthorized, badResponse.StatusCode);
            using var service = fixture.Rest(HttpMethod.Get, path, null);
            service.Headers.Authorization = new("Bearer", TestTokens.Service());
            using var serviceResponse = await fixture.Http.SendAsync(service);
            Assert.Equal(HttpStatusCode.Forbidden, serviceResponse.StatusCode);
        }
        var (create, _) = await SendAsync(HttpMethod.Post, "/api/posts", null, OriginalExampleBody(Guid.NewGuid().ToString(), DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(HttpStatusCode.Unauthorized, create);
    }
}
