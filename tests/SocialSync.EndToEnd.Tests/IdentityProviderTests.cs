using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Npgsql;

namespace SocialSync.EndToEnd.Tests;

/// <summary>The AppHost's identity provider: its issuer, and its database that only its own role opens.</summary>
[Collection(AppHostCollection.Name)]
public sealed class IdentityProviderTests(AppHostFixture system)
{
    [Fact]
    public async Task The_identity_provider_publishes_its_own_http_endpoint_as_issuer_with_a_JWKS()
    {
        var endpoint = system.App.GetEndpoint("identity", "http");
        using var http = new HttpClient { BaseAddress = endpoint };

        using var discovery = JsonDocument.Parse(await http.GetStringAsync("/.well-known/openid-configuration"));
        using var jwks = JsonDocument.Parse(await http.GetStringAsync(discovery.RootElement.GetProperty("jwks_uri").GetString()));

        Assert.Equal(endpoint.AbsoluteUri, discovery.RootElement.GetProperty("issuer").GetString());
        Assert.NotEmpty(jwks.RootElement.GetProperty("keys").EnumerateArray());
    }

    [Fact]
    public async Task Identitydb_is_opened_by_its_own_role_and_refused_to_PostsService_s_API_role()
    {
        var identitydb = await system.App.GetConnectionStringAsync("identitydb");
        var postsdb = new NpgsqlConnectionStringBuilder(await system.App.GetConnectionStringAsync("postsdb"));
        var own = new NpgsqlConnectionStringBuilder(identitydb);
        Assert.Equal("socialsync_identity", own.Username);
        await using (var connection = new NpgsqlConnection(identitydb))
        {
            await connection.OpenAsync();
        }

        // PostsService's API role, with its password (this run's), on the same server.
        var asApiRole = new NpgsqlConnectionStringBuilder(identitydb)
        {
            Username = "socialsync_app",
            Password = SocialSync.Testing.TestTokens.AppHostSecret("postsdb-app-password"),
        };
        await using var refused = new NpgsqlConnection(asApiRole.ConnectionString);
        var error = await Assert.ThrowsAsync<PostgresException>(() => refused.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.NotEqual(postsdb.Database, own.Database);
    }
}
