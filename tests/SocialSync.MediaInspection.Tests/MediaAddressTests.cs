using System.Net;

namespace SocialSync.MediaInspection.Tests;

/// <summary>A media URL cannot reach an internal address: not directly, not by a redirect, not by an IPv4-mapped IPv6 form.</summary>
public sealed class MediaAddressTests : IAsyncLifetime
{
    private const string Refused = "is refused: its host is an internal address";
    private MediaServer _server = null!;

    public async Task InitializeAsync() => _server = await MediaServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("192.168.1.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::ffff:169.254.169.254", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("64:ff9b::a00:1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("151.101.1.69", false)]
    [InlineData("2606:4700:4700::1111", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    public void Internal_addresses_are_told_from_public_ones(string address, bool isInternal) =>
        Assert.Equal(isInternal, AddressRules.IsInternal(IPAddress.Parse(address)));

    [Fact]
    public async Task A_loopback_server_is_refused_without_the_allow_list_and_read_with_it()
    {
        var url = _server.Put("ok.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        using var guarded = Inspectors.Create();
        Assert.Equal(Refused, await guarded.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Empty(_server.Requests);

        using var allowed = Inspectors.Create("127.0.0.1/32");
        Assert.Null(await allowed.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
    }

    [Theory]
    [InlineData("http://10.0.0.1/a.jpg")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/a.jpg")]
    [InlineData("http://[::ffff:127.0.0.1]/a.jpg")]
    [InlineData("http://localhost/a.jpg")]
    [InlineData("http://0x7f000001/a.jpg")]
    public async Task Internal_addresses_are_refused_before_any_connection(string url)
    {
        using var inspector = Inspectors.Create();
        Assert.Equal(Refused, await inspector.CheckAsync(url, MediaTarget.InstagramFeedImage, CancellationToken.None));
    }

    [Fact]
    public async Task A_redirect_to_an_internal_address_is_refused()
    {
        var target = _server.Put("inside.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        // The allow-list names the host "localhost" only: the first hop goes through, the redirect to 127.0.0.1 does not.
        using var inspector = Inspectors.Create("localhost");
        Assert.Null(await inspector.CheckAsync(_server.Url("inside.jpg", host: "localhost"), MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal(Refused, await inspector.CheckAsync(_server.RedirectTo(target, host: "localhost"), MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal(Refused, await inspector.CheckAsync(_server.RedirectTo("http://169.254.169.254/latest/meta-data/", host: "localhost"), MediaTarget.InstagramFeedImage, CancellationToken.None));
    }

    [Fact]
    public async Task Redirects_are_followed_three_times_at_most_and_only_to_http()
    {
        using var inspector = Inspectors.Create("127.0.0.1/32");
        var target = _server.Put("far.jpg", MediaFixtures.Jpeg(1080, 1080), "image/jpeg");
        var three = _server.RedirectTo(_server.RedirectTo(_server.RedirectTo(target)));
        Assert.Null(await inspector.CheckAsync(three, MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal("redirects more than 3 times",
            await inspector.CheckAsync(_server.RedirectTo(three), MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal("must be an http(s) URL",
            await inspector.CheckAsync(_server.RedirectTo("file:///etc/passwd"), MediaTarget.InstagramFeedImage, CancellationToken.None));
        Assert.Equal("must be an http(s) URL",
            await inspector.CheckAsync("ftp://127.0.0.1/a.jpg", MediaTarget.InstagramFeedImage, CancellationToken.None));
    }
}
