using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A database made before workspaces (migrations up to 0012) keeps every user's rows after 0013: each user gets the
/// personal workspace they would have been given on first use, owns it, and sees their rows in it, as before.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class WorkspaceMigrationTests(PostsServiceFixture fixture)
{
    private const string FirstWorkspaceMigration = "0013_workspaces";

    [Fact]
    public async Task Existing_rows_move_into_their_owners_personal_workspace()
    {
        await using var dataSource = NpgsqlDataSource.Create(fixture.Postgres.ConnectionString(await fixture.Postgres.CreateDatabaseAsync()));
        await ApplyMigrationsBeforeAsync(dataSource, FirstWorkspaceMigration);
        var (alice, bob) = (Guid.NewGuid(), Guid.NewGuid());
        await using (var seed = dataSource.CreateCommand("""
            with c as (
                insert into channels (user_id, platform, account_id, access_token_encrypted)
                values (@alice, 'whatsapp', 'a', '\x00'), (@bob, 'whatsapp', 'b', '\x00') returning id, user_id),
            p as (
                insert into scheduled_posts (user_id, channel_id, platform, content_json, publish_at, due_at)
                select user_id, id, 'whatsapp', '{"text":"x","media":[]}', now() + interval '1 day', now() + interval '1 day' from c
                returning id, user_id)
            insert into post_runs (scheduled_post_id, user_id, attempt, started_at) select id, user_id, 1, now() from p
            """))
        {
            seed.Parameters.AddWithValue("alice", alice);
            seed.Parameters.AddWithValue("bob", bob);
            await seed.ExecuteNonQueryAsync();
        }

        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("Database:AppPassword", PostsServiceFixture.AppRolePassword)])
            .Build();
        await using var database = new PostsDatabase(dataSource, configuration);
        await new MigrationRunner(database, NullLogger<MigrationRunner>.Instance).MigrateAsync(CancellationToken.None);

        foreach (var user in new[] { alice, bob })
        {
            var seen = await database.InUserTransactionAsync(user, async (connection, transaction) =>
            {
                await using var query = new NpgsqlCommand("""
                    select (select count(*) from channels where workspace_id = @user),
                           (select count(*) from scheduled_posts where workspace_id = @user),
                           (select count(*) from post_runs where workspace_id = @user),
                           (select count(*) from scheduled_posts),
                           (select app_role(@user)),
                           (select personal from workspaces where id = @user)
                    """, connection, transaction);
                query.Parameters.AddWithValue("user", user);
                await using var reader = await query.ExecuteReaderAsync();
                await reader.ReadAsync();
                return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4), reader.GetBoolean(5));
            }, CancellationToken.None);
            Assert.Equal((1L, 1L, 1L, 1L, "owner", true), seen);
        }
    }

    /// <summary>Applies PostsService's own migrations that sort before <paramref name="version"/>, as the runner would have then.</summary>
    private static async Task ApplyMigrationsBeforeAsync(NpgsqlDataSource dataSource, string version)
    {
        var assembly = typeof(MigrationRunner).Assembly;
        const string prefix = "SocialSync.PostsService.Data.Migrations.";
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var create = new NpgsqlCommand(
            "create table schema_migrations (version text primary key, applied_at timestamptz not null default now())", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var migration = name[prefix.Length..^".sql".Length];
            if (string.CompareOrdinal(migration, version) >= 0)
            {
                break;
            }
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            await using var apply = new NpgsqlCommand(await reader.ReadToEndAsync() + ";insert into schema_migrations (version) values ('" + migration + "')", connection);
            await apply.ExecuteNonQueryAsync();
        }
    }
}
