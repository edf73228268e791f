using Microsoft.Extensions.Configuration;
using Npgsql;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Tests;

[Collection(PostsServiceCollection.Name)]
public sealed class DatabaseConnectionTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task Both_pools_connect_with_the_JIT_compiler_off()
    {
        // As the host builds the owner pool (Extensions.AddApplicationServices); the app role's pool derives from it.
        var owner = new NpgsqlDataSourceBuilder(fixture.ConnectionString);
        PostsDatabase.ConfigureConnections(owner.ConnectionStringBuilder);
        await using var ownerPool = owner.Build();
        await using var database = new PostsDatabase(ownerPool, new ConfigurationBuilder()
            .AddInMemoryCollection([new(PostsDatabase.AppPasswordSetting, PostsServiceFixture.AppRolePassword)]).Build());

        await using var plain = NpgsqlDataSource.Create(fixture.ConnectionString);
        Assert.Equal("on", await ShowJitAsync(plain));
        Assert.Equal("off", await ShowJitAsync(database.Owner));
        Assert.Equal("off", await ShowJitAsync(database.App));
    }

    private static async Task<string> ShowJitAsync(NpgsqlDataSource pool)
    {
        await using var show = pool.CreateCommand("show jit");
        return (string)(await show.ExecuteScalarAsync())!;
    }
}
