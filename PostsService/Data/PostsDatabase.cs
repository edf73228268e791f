using Npgsql;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Two pools on one database: <see cref="Owner"/> (the table owner: migrations and the internal RPCs of the other
/// services) and <see cref="App"/> (the non-owner API role, under row-level security, for every user request).
/// </summary>
public sealed class PostsDatabase(NpgsqlDataSource owner, IConfiguration configuration) : IAsyncDisposable
{
    public const string AppRole = "socialsync_app";
    public const int AutoPreparedStatements = 64;

    /// <summary>
    /// No session state is ever set (the user is set per transaction, with set_config(..., true)), so a connection
    /// returned to the pool need not be reset: the reset is six statements, parsed each time, on every checkout.
    /// </summary>
    public const bool NoSessionState = true;

    /// <summary>
    /// The settings of both pools' connections (the owner's, built by the host, and the app role's, derived from it):
    /// statements prepared once per connection, no reset on return (<see cref="NoSessionState"/>), and PostgreSQL's JIT
    /// compiler off. Our statements are short and planned for indexes, but one over tables not yet analyzed (the
    /// one-row webhook feed position) is estimated at billions of rows, and JIT then compiled it for 0.8–2.2 s on each
    /// run: the webhook fan-out, once a second, took most of a core during the benchmark's burst (docs/scale.md).
    /// </summary>
    public static void ConfigureConnections(NpgsqlConnectionStringBuilder connections)
    {
        connections.MaxAutoPrepare = AutoPreparedStatements;
        connections.AutoPrepareMinUsages = 2;
        connections.NoResetOnClose = NoSessionState;
        if (connections.Options?.Contains("jit=off", StringComparison.Ordinal) != true)
        {
            connections.Options = string.IsNullOrWhiteSpace(connections.Options) ? "-c jit=off" : $"{connections.Options} -c jit=off";
        }
    }

    private readonly Lazy<NpgsqlDataSource> _app = new(() => CreateAppDataSource(owner, configuration));

    public NpgsqlDataSource Owner { get; } = owner;

    public NpgsqlDataSource App => _app.Value;

    /// <summary>The API role's password: a secret setting, required at start-up (no default ships).</summary>
    public const string AppPasswordSetting = "Database:AppPassword";

    public string AppRolePassword { get; } = configuration[AppPasswordSetting]
        ?? throw new InvalidOperationException($"{AppPasswordSetting} is not set.");

    /// <summary>Runs <paramref name="work"/> in a transaction that sees only <paramref name="userId"/>'s rows.</summary>
    public async Task<T> InUserTransactionAsync<T>(Guid userId, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await App.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var setUser = new NpgsqlCommand("select set_config('app.user_id', @user, true)", connection, transaction))
        {
            setUser.Parameters.AddWithValue("user", userId.ToString());
            await setUser.ExecuteNonQueryAsync(cancellationToken);
        }
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>Completes once PostgreSQL answers a query on the owner pool.</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var command = Owner.CreateCommand("select 1");
        await command.ExecuteScalarAsync(cancellationToken);
    }

    private static NpgsqlDataSource CreateAppDataSource(NpgsqlDataSource owner, IConfiguration configuration)
    {
        var builder = new NpgsqlConnectionStringBuilder(owner.ConnectionString)
        {
            Username = AppRole,
            Password = configuration[AppPasswordSetting],
        };
        ConfigureConnections(builder);
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app.IsValueCreated)
        {
            await _app.Value.DisposeAsync();
        }
    }
}
