using System.Reflection;
using Npgsql;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Applies the embedded, versioned SQL migrations once, in order, under a PostgreSQL advisory lock so that
/// replicas starting together never race; then sets the API role's password from configuration.
/// </summary>
public sealed partial class MigrationRunner(PostsDatabase database, ILogger<MigrationRunner> log)
{
    private const long AdvisoryLockKey = 0x50_6F_73_74_73; // "Posts"

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await ExecuteAsync(connection, """
                create table if not exists schema_migrations (
                    version text primary key,
                    applied_at timestamptz not null default now())
                """, cancellationToken);

            var applied = new HashSet<string>();
            await using (var query = new NpgsqlCommand("select version from schema_migrations", connection))
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            foreach (var (version, sql) in LoadMigrations().Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var migrate = new NpgsqlCommand(sql, connection, transaction))
                {
                    await migrate.ExecuteNonQueryAsync(cancellationToken);
                }
                await using (var record = new NpgsqlCommand("insert into schema_migrations (version) values (@v)", connection, transaction))
                {
                    record.Parameters.AddWithValue("v", version);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                LogMigrationApplied(version);
            }

            // The password is configuration, not schema: set it on every start so a rotated secret takes effect.
            var password = database.AppRolePassword.Replace("'", "''", StringComparison.Ordinal);
            await ExecuteAsync(connection, $"alter role {PostsDatabase.AppRole} with login password '{password}'", cancellationToken);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", AdvisoryLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static IEnumerable<(string Version, string Sql)> LoadMigrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        const string prefix = "SocialSync.PostsService.Data.Migrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[prefix.Length..^".sql".Length], reader.ReadToEnd());
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Applied database migration {Version}")]
    private partial void LogMigrationApplied(string version);
}
