using System.Net;

namespace SocialSync.GraphApiEmulator.Tests;

public sealed class InstagramPublishingTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    [Fact]
    public async Task Image_post_is_created_published_and_readable_with_a_permalink()
    {
        var account = Ids.Next();
        // Postiz-style: every parameter in the query string of a POST.
        var created = await http.PostJsonAsync($"/v23.0/{account}/media?image_url=https%3A%2F%2Fcdn.example.com%2Fa.jpg&caption=Sunset%20%23beach", new { }, token: null);
        Assert.Equal(HttpStatusCode.BadRequest, created.Status); // no token at all
        created = await http.SendAsyncNoBody($"/v23.0/{account}/media?image_url=https%3A%2F%2Fcdn.example.com%2Fa.jpg&caption=Sunset%20%23beach&access_token=t");
        Assert.Equal(HttpStatusCode.OK, created.Status);
        var containerId = created.Json!["id"]!.GetValue<string>();

        Assert.Equal("FINISHED", await http.StatusCodeAsync(containerId));
        var published = await http.PublishAsync(account, containerId);
        Assert.Equal(HttpStatusCode.OK, published.Status);
        var mediaId = published.Json!["id"]!.GetValue<string>();
        Assert.Equal("PUBLISHED", await http.StatusCodeAsync(containerId));

        var media = await http.GetGraphAsync($"/v23.0/{mediaId}?fields=id,permalink,media_type,media_product_type,timestamp,caption");
        Assert.Equal(HttpStatusCode.OK, media.Status);
        Assert.Equal(mediaId, media.Json!["id"]!.GetValue<string>());
        Assert.Matches("^https://www\\.instagram\\.com/p/[A-Za-z0-9_-]+/$", media.Json["permalink"]!.GetValue<string>());
        Assert.Equal("IMAGE", media.Json["media_type"]!.GetValue<string>());
        Assert.Equal("FEED", media.Json["media_product_type"]!.GetValue<string>());
        Assert.Equal("Sunset #beach", media.Json["caption"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$", media.Json["timestamp"]!.GetValue<string>());

        var effect = Assert.Single(await http.EffectsAsync(account))!;
        Assert.Equal("instagram_media", effect["kind"]!.GetValue<string>());
        Assert.Equal(mediaId, effect["media_id"]!.GetValue<string>());
        Assert.Equal(containerId, effect["container_id"]!.GetValue<string>());
        Assert.Equal("IMAGE", effect["media_type"]!.GetValue<string>());
        Assert.Equal("Sunset #beach", effect["caption"]!.GetValue<string>());
    }

    [Fact]
    public async Task Carousel_is_published_once_with_its_children()
    {
        var account = Ids.Next();
        var a = await http.CreateImageContainerAsync(account, caption: null, carouselItem: true);
        var b = await http.CreateImageContainerAsync(account, caption: null, carouselItem: true);
        var parent = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "CAROUSEL", children = $"{a},{b}", caption = "Album" });
        Assert.Equal(HttpStatusCode.OK, parent.Status);
        var parentId = parent.Json!["id"]!.GetValue<string>();

        var published = await http.PublishAsync(account, parentId);
        Assert.Equal(HttpStatusCode.OK, published.Status);
        var media = await http.GetGraphAsync($"/v23.0/{published.Json!["id"]!.GetValue<string>()}?fields=media_type,children");
        Assert.Equal("CAROUSEL_ALBUM", media.Json!["media_type"]!.GetValue<string>());
        Assert.Equal(2, media.Json["children"]!["data"]!.AsArray().Count);

        var effect = Assert.Single(await http.EffectsAsync(account))!;
        Assert.Equal("CAROUSEL", effect["media_type"]!.GetValue<string>());
        Assert.Equal([a, b], effect["children"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(1, (await http.GetGraphAsync($"/v23.0/{account}/content_publishing_limit")).Json!["data"]![0]!["quota_usage"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(11)]
    public async Task Carousel_needs_two_to_ten_children(int count)
    {
        var account = Ids.Next();
        var children = new List<string>();
        for (var i = 0; i < count; i++)
        {
            children.Add(await http.CreateImageContainerAsync(account, caption: null, carouselItem: true));
        }

        var reply = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "CAROUSEL", children });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal((100, 2207028), (reply.Code, reply.Subcode));
    }

    [Fact]
    public async Task Reel_cannot_be_published_before_processing_finishes_then_can()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { processingDelayMs = 400 });
        var created = await http.PostFormAsync($"/v23.0/{account}/media", new Dictionary<string, string>
        {
            ["media_type"] = "REELS",
            ["video_url"] = "https://cdn.example.com/r.mp4",
            ["caption"] = "Reel",
        });
        var containerId = created.Json!["id"]!.GetValue<string>();
        Assert.Equal("IN_PROGRESS", await http.StatusCodeAsync(containerId));

        var early = await http.PublishAsync(account, containerId);
        Assert.Equal(HttpStatusCode.BadRequest, early.Status);
        Assert.Equal((9007, 2207027), (early.Code, early.Subcode));
        Assert.Empty(await http.EffectsAsync(account));

        var status = await GraphHttp.EventuallyAsync(() => http.StatusCodeAsync(containerId), s => s == "FINISHED");
        Assert.Equal("FINISHED", status);
        var published = await http.PublishAsync(account, containerId);
        Assert.Equal(HttpStatusCode.OK, published.Status);
        var media = await http.GetGraphAsync($"/v23.0/{published.Json!["id"]!.GetValue<string>()}?fields=media_type,media_product_type");
        Assert.Equal(("VIDEO", "REELS"), (media.Json!["media_type"]!.GetValue<string>(), media.Json["media_product_type"]!.GetValue<string>()));

        var again = await http.PublishAsync(account, containerId);
        Assert.Equal((HttpStatusCode.BadRequest, 100), (again.Status, again.Code));
        Assert.Single(await http.EffectsAsync(account));
    }

    [Fact]
    public async Task Story_is_published_as_a_story()
    {
        var account = Ids.Next();
        var created = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "STORIES", image_url = "https://cdn.example.com/s.jpg" });
        var published = await http.PublishAsync(account, created.Json!["id"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.OK, published.Status);
        var effect = Assert.Single(await http.EffectsAsync(account))!;
        Assert.Equal("STORIES", effect["media_type"]!.GetValue<string>());
        Assert.Equal("STORY", effect["media_product_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Carousel_with_an_unfinished_child_cannot_be_published()
    {
        var account = Ids.Next();
        await http.PutAccountAsync(account, new { processingDelayMs = -1 }); // videos never finish on their own
        var video = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "VIDEO", is_carousel_item = true, video_url = "https://cdn.example.com/v.mp4" });
        var videoId = video.Json!["id"]!.GetValue<string>();
        var image = await http.CreateImageContainerAsync(account, caption: null, carouselItem: true);
        var parent = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "CAROUSEL", children = new[] { videoId, image } });
        var parentId = parent.Json!["id"]!.GetValue<string>();

        Assert.Equal("IN_PROGRESS", await http.StatusCodeAsync(parentId));
        var early = await http.PublishAsync(account, parentId);
        Assert.Equal((9007, 2207027), (early.Code, early.Subcode));

        await http.ControlAsync(HttpMethod.Put, $"/__emu/containers/{videoId}", new { statusCode = "FINISHED" });
        Assert.Equal(HttpStatusCode.OK, (await http.PublishAsync(account, parentId)).Status);
        Assert.Single(await http.EffectsAsync(account));
    }

    [Theory]
    [InlineData(2201, 0, 0)]
    [InlineData(0, 31, 0)]
    [InlineData(0, 0, 21)]
    public async Task Caption_limits_return_36004_2207010(int chars, int hashtags, int mentions)
    {
        var caption = new string('a', chars)
            + string.Concat(Enumerable.Range(0, hashtags).Select(i => $" #tag{i}"))
            + string.Concat(Enumerable.Range(0, mentions).Select(i => $" @user{i}"));
        var reply = await http.PostJsonAsync($"/v23.0/{Ids.Next()}/media", new { image_url = "https://cdn.example.com/a.jpg", caption });

        Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
        Assert.Equal((36004, 2207010), (reply.Code, reply.Subcode));
    }

    [Fact]
    public async Task Caption_at_the_limits_is_accepted()
    {
        var caption = string.Concat(Enumerable.Range(0, 30).Select(i => $"#t{i} ")) + string.Concat(Enumerable.Range(0, 20).Select(i => $"@u{i} "));
        var reply = await http.PostJsonAsync($"/v23.0/{Ids.Next()}/media", new { image_url = "https://cdn.example.com/a.jpg", caption });

        Assert.Equal(HttpStatusCode.OK, reply.Status);
    }

    [Fact]
    public async Task Container_error_shows_in_status_and_blocks_publishing()
    {
        var account = Ids.Next();
        var created = await http.PostJsonAsync($"/v23.0/{account}/media", new { media_type = "REELS", video_url = "https://cdn.example.com/r.mp4?emu_error=2207026" });
        var id = created.Json!["id"]!.GetValue<string>();

        var status = await GraphHttp.EventuallyAsync(() => http.GetGraphAsync($"/v23.0/{id}?fields=status_code,status"),
            r => r.Json!["status_code"]!.GetValue<string>() != "IN_PROGRESS");
        Assert.Equal("ERROR", status.Json!["status_code"]!.GetValue<string>());
        Assert.Contains("2207026", status.Json["status"]!.GetValue<string>());
        Assert.Equal(9007, (await http.PublishAsync(account, id)).Code);
    }

    [Fact]
    public async Task Unknown_object_ids_return_graph_method_exception_100_33()
    {
        var account = Ids.Next();
        var get = await http.GetGraphAsync("/v23.0/424242424242?fields=status_code");
        var publish = await http.PublishAsync(account, "424242424242");

        foreach (var reply in new[] { get, publish })
        {
            Assert.Equal(HttpStatusCode.BadRequest, reply.Status);
            Assert.Equal((100, 33), (reply.Code, reply.Subcode));
            Assert.Equal("GraphMethodException", reply.Error!["type"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Another_accounts_container_is_not_found()
    {
        var owner = Ids.Next();
        var container = await http.CreateImageContainerAsync(owner);

        var reply = await http.PublishAsync(Ids.Next(), container);

        Assert.Equal((100, 33), (reply.Code, reply.Subcode));
        Assert.Empty(await http.EffectsAsync(owner));
    }
}

internal static class InstagramHttp
{
    public static Task<Reply> SendAsyncNoBody(this HttpClient http, string path) =>
        GraphHttp.SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path), token: null);
}
