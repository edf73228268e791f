using System.Security.Cryptography;
using Grpc.Core;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.Testing;

/// <summary>
/// Tokens signed with this test run's own keys: random ones each run, which every system the tests start is given
/// (<see cref="SecretsFor"/>), since the services refuse any key written in the repository. User tokens are signed
/// with the user key (HS256, as <c>./build.sh token</c> does), service tokens with the service key.
/// </summary>
public static class TestTokens
{
    public static string UserSigningKey { get; } = RandomSecret();

    public static string ServiceSigningKey { get; } = RandomSecret();

    /// <summary>The Meta app secret of this test run: PublisherService checks webhooks with it, the emulator signs them.</summary>
    public static string MetaAppSecret { get; } = RandomSecret();

    /// <summary>The secret settings of this test run, as environment variables: every service takes its own of them.</summary>
    public static IReadOnlyDictionary<string, string?> ServiceSecrets { get; } = new Dictionary<string, string?>
    {
        ["Auth__Users__SigningKey"] = UserSigningKey,
        ["Auth__Services__SigningKey"] = ServiceSigningKey,
        ["Tokens__EncryptionKey"] = RandomSecret(),
        ["Database__AppPassword"] = RandomSecret(),
        ["Meta__AppSecret"] = MetaAppSecret,
        ["Meta__WebhookVerifyToken"] = RandomSecret(),
    };

    /// <summary>
    /// The secrets <paramref name="project"/> gets, as the AppHost gives them: the service key to every service, the
    /// user key and PostsService's own secrets to PostsService only, Meta's to PublisherService only; none to the
    /// gateway, which holds no key.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string?>> SecretsFor(string project) => project switch
    {
        "PostsService" => ServiceSecrets.Where(s => !s.Key.StartsWith("Meta__", StringComparison.Ordinal)),
        "PublisherService" => ServiceSecrets.Where(s => s.Key == "Auth__Services__SigningKey" || s.Key.StartsWith("Meta__", StringComparison.Ordinal)),
        "SocialSync.Gateway" => [],
        _ => ServiceSecrets.Where(s => s.Key == "Auth__Services__SigningKey"),
    };

    /// <summary>
    /// The AppHost's secret parameters for a test run: this run's keys (so <see cref="User"/> and <see cref="Service"/>
    /// tokens work) and fresh values for the rest, given rather than generated so a test never writes the AppHost's
    /// user secrets.
    /// </summary>
    public static string[] AppHostSecretArguments { get; } =
    [
        $"Parameters:jwt-signing-key={UserSigningKey}",
        $"Parameters:service-signing-key={ServiceSigningKey}",
        $"Parameters:token-encryption-key={RandomSecret()}",
        $"Parameters:postsdb-app-password={RandomSecret()}",
        $"Parameters:postgres-password={RandomSecret()}",
        $"Parameters:identitydb-password={RandomSecret()}",
        $"Parameters:meta-app-secret={MetaAppSecret}",
        $"Parameters:meta-webhook-verify-token={RandomSecret()}",
    ];

    /// <summary>The value <see cref="AppHostSecretArguments"/> gives the AppHost's parameter <paramref name="parameter"/>.</summary>
    public static string AppHostSecret(string parameter) =>
        AppHostSecretArguments.Single(a => a.StartsWith($"Parameters:{parameter}=", StringComparison.Ordinal)).Split('=', 2)[1];

    /// <summary>How user tokens are signed (key, issuer, audience); <c>with { ... }</c> makes one wrong in one way.</summary>
    public static TokenSigning Users { get; } = new UserTokenOptions { SigningKey = UserSigningKey }.Signing;

    /// <summary>How service tokens are signed.</summary>
    public static TokenSigning Services { get; } = new ServiceTokenOptions { SigningKey = ServiceSigningKey }.Signing;

    public static string RandomSecret() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    public static string User(Guid userId) => new TokenIssuer(Users, TimeProvider.System).CreateUserToken(userId, TimeSpan.FromHours(1));

    public static string Service() => new TokenIssuer(Services, TimeProvider.System).CreateServiceToken("tests", TimeSpan.FromHours(1));

    public static Metadata Bearer(string token) => new() { { "Authorization", $"Bearer {token}" } };

    public static Metadata ForUser(Guid userId) => Bearer(User(userId));

    public static Metadata ForService() => Bearer(Service());
}
