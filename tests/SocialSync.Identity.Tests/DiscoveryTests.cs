using System.Text.Json;

namespace SocialSync.Identity.Tests;

public sealed class DiscoveryTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>
{
    [Fact]
    public async Task The_discovery_document_names_the_configured_issuer_the_code_flow_with_S256_and_the_JWKS()
    {
        using var discovery = await fixture.DiscoveryAsync();
        var root = discovery.RootElement;

        Assert.Equal(fixture.Issuer.AbsoluteUri, root.GetProperty("issuer").GetString());
        Assert.Equal(new Uri(fixture.Issuer, "connect/authorize").AbsoluteUri, root.GetProperty("authorization_endpoint").GetString());
        Assert.Equal(new Uri(fixture.Issuer, "connect/token").AbsoluteUri, root.GetProperty("token_endpoint").GetString());
        Assert.Equal(["S256"], root.GetProperty("code_challenge_methods_supported").EnumerateArray().Select(e => e.GetString()));
        var grants = root.GetProperty("grant_types_supported").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Contains("authorization_code", grants);
        Assert.Contains("refresh_token", grants);
        Assert.Contains("client_credentials", grants);
        Assert.DoesNotContain("password", grants);
    }

    [Fact]
    public async Task The_JWKS_serves_a_public_RSA_signing_key_and_no_private_part()
    {
        using var discovery = await fixture.DiscoveryAsync();
        using var http = new HttpClient();
        using var jwks = JsonDocument.Parse(await http.GetStringAsync(discovery.RootElement.GetProperty("jwks_uri").GetString()));

        var key = Assert.Single(jwks.RootElement.GetProperty("keys").EnumerateArray());
        Assert.Equal("RSA", key.GetProperty("kty").GetString());
        Assert.Equal("sig", key.GetProperty("use").GetString());
        Assert.Equal("RS256", key.GetProperty("alg").GetString());
        Assert.False(string.IsNullOrEmpty(key.GetProperty("kid").GetString()));
        Assert.False(key.TryGetProperty("d", out _), "the JWKS must not publish the private exponent");
    }
}
