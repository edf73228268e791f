using Npgsql;

namespace SocialSync.Testing;

/// <summary>
/// SocialSync.Identity as a process in Production on loopback http, over its own database and role in the given
/// PostgreSQL, provisioned as the AppHost does (a role that alone may open identitydb).
/// </summary>
public static class IdentityProcess
{
    public const string Database = "identitydb";
    public const string Role = "socialsync_identity";

    /// <summary>Provisions identitydb and starts the provider with <paramref name="settings"/> (e.g. the web client's redirect URIs).</summary>
    public static async Task<ServiceProcess> StartAsync(PostgresServer postgres, IDictionary<string, string?> settings)
    {
        var password = TestTokens.RandomSecret();
        await ProvisionAsync(postgres, password);
        var environment = new Dictionary<string, string?>(settings)
        {
            ["ConnectionStrings__identitydb"] = $"Host=127.0.0.1;Port={postgres.Port};Username={Role};Password={password};Database={Database}",
            ["Identity__RequireHttps"] = "false",
        };
        var identity = new ServiceProcess("identity", "SocialSync.Identity", environment);
        identity.SetEnvironment("Identity__Issuer", identity.HttpAddress.AbsoluteUri);
        // A fresh identitydb is migrated on first start (EF Core builds its model first): slow on a busy 2-core machine.
        await identity.StartAsync(TimeSpan.FromMinutes(3));
        return identity;
    }

    private static async Task ProvisionAsync(PostgresServer postgres, string password)
    {
        await using var admin = new NpgsqlConnection(postgres.ConnectionString("postgres"));
        await admin.OpenAsync();
        foreach (var sql in new[]
        {
            $"create role {Role} login password '{password}'",
            $"create database {Database} owner {Role}",
            $"revoke connect on database {Database} from public",
        })
        {
            await using var command = new NpgsqlCommand(sql, admin);
            await command.ExecuteNonQueryAsync();
        }
    }
}
