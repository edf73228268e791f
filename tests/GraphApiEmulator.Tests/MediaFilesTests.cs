using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Tests;

/// <summary>The media files tests put under /__emu/media are served like a CDN serves them: type, ETag, ranges, 304; a PUT changes them.</summary>
public sealed class MediaFilesTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private readonly HttpClient http = emulator.Http;

    private async Task<JsonNode> PutAsync(string name, byte[] bytes, string contentType)
    {
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await http.PutAsync($"/__emu/media/{name}", body);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    [Fact]
    public async Task A_put_file_is_served_with_its_type_and_etag_by_range_and_304_and_a_second_put_changes_it()
    {
        var name = $"{Ids.Next()}.jpg";
        byte[] first = [.. Enumerable.Range(0, 1000).Select(i => (byte)i)];
        var put = await PutAsync(name, first, "image/jpeg");
        Assert.EndsWith($"/__emu/media/{name}", put["url"]!.GetValue<string>());

        using var whole = await http.GetAsync($"/__emu/media/{name}");
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal("image/jpeg", whole.Content.Headers.ContentType!.MediaType);
        Assert.Equal(first, await whole.Content.ReadAsByteArrayAsync());
        var etag = whole.Headers.ETag!;

        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, $"/__emu/media/{name}") { Headers = { Range = new RangeHeaderValue(0, 99) } };
        using var ranged = await http.SendAsync(rangeRequest);
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal(1000, ranged.Content.Headers.ContentRange!.Length);
        Assert.Equal(first[..100], await ranged.Content.ReadAsByteArrayAsync());

        using var cachedRequest = new HttpRequestMessage(HttpMethod.Get, $"/__emu/media/{name}") { Headers = { IfNoneMatch = { etag } } };
        using var cached = await http.SendAsync(cachedRequest);
        Assert.Equal(HttpStatusCode.NotModified, cached.StatusCode);

        await PutAsync(name, [1, 2, 3], "image/png");
        using var changedRequest = new HttpRequestMessage(HttpMethod.Get, $"/__emu/media/{name}") { Headers = { IfNoneMatch = { etag } } };
        using var changed = await http.SendAsync(changedRequest);
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal("image/png", changed.Content.Headers.ContentType!.MediaType);
        Assert.NotEqual(etag, changed.Headers.ETag);

        var fetches = (await http.ControlAsync(HttpMethod.Get, $"/__emu/media/{name}/fetches"))["data"]!.AsArray();
        Assert.Equal([200, 206, 304, 200], fetches.Select(f => f!["status"]!.GetValue<int>()));
        Assert.Equal("bytes=0-99", fetches[1]!["range"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_file_never_put_or_deleted_is_404()
    {
        var name = $"{Ids.Next()}.png";
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/__emu/media/{name}")).StatusCode);
        await PutAsync(name, [1], "image/png");
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/__emu/media/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/__emu/media/{name}")).StatusCode);
    }
}
