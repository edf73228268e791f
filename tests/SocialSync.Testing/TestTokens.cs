using Grpc.Core;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.Testing;

/// <summary>Tokens signed with the development key every test system is configured with.</summary>
public static class TestTokens
{
    public static readonly AuthOptions Options = new();
    private static readonly TokenIssuer Issuer = new(Options, TimeProvider.System);

    public static string User(Guid userId) => Issuer.CreateUserToken(userId, TimeSpan.FromHours(1));

    public static string Service() => Issuer.CreateServiceToken(TimeSpan.FromHours(1));

    public static Metadata Bearer(string token) => new() { { "Authorization", $"Bearer {token}" } };

    public static Metadata ForUser(Guid userId) => Bearer(User(userId));

    public static Metadata ForService() => Bearer(Service());
}
