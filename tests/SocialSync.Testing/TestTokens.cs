using System.Security.Cryptography;
using Grpc.Core;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.Testing;

/// <summary>
/// Tokens signed with this test run's own key: a random one each run, which every system the tests start is given
/// (<see cref="ServiceSecrets"/>), since the services refuse any key written in the repository.
/// </summary>
public static class TestTokens
{
    public static string SigningKey { get; } = RandomSecret();

    /// <summary>The secret settings every service process of this test run gets, as environment variables.</summary>
    public static IReadOnlyDictionary<string, string?> ServiceSecrets { get; } = new Dictionary<string, string?>
    {
        ["Auth__SigningKey"] = SigningKey,
        ["Tokens__EncryptionKey"] = RandomSecret(),
        ["Database__AppPassword"] = RandomSecret(),
    };

    /// <summary>
    /// The AppHost's secret parameters for a test run: this run's signing key (so <see cref="User"/> tokens work) and
    /// fresh values for the rest, given rather than generated so a test never writes the AppHost's user secrets.
    /// </summary>
    public static string[] AppHostSecretArguments { get; } =
    [
        $"Parameters:jwt-signing-key={SigningKey}",
        $"Parameters:token-encryption-key={RandomSecret()}",
        $"Parameters:postsdb-app-password={RandomSecret()}",
        $"Parameters:postgres-password={RandomSecret()}",
        $"Parameters:identitydb-password={RandomSecret()}",
    ];

    public static readonly AuthOptions Options = WithKey(new AuthOptions());

    /// <summary><paramref name="options"/> signing with this run's key (for tokens that are wrong in another way).</summary>
    public static AuthOptions WithKey(AuthOptions options)
    {
        options.SigningKey = SigningKey;
        return options;
    }

    public static string RandomSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
    private static readonly TokenIssuer Issuer = new(Options, TimeProvider.System);

    public static string User(Guid userId) => Issuer.CreateUserToken(userId, TimeSpan.FromHours(1));

    public static string Service() => Issuer.CreateServiceToken(TimeSpan.FromHours(1));

    public static Metadata Bearer(string token) => new() { { "Authorization", $"Bearer {token}" } };

    public static Metadata ForUser(Guid userId) => Bearer(User(userId));

    public static Metadata ForService() => Bearer(Service());
}
