using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Extensions;

/// <summary>
/// `dotnet run --project PostsService -- mint-token [user-uuid] [hours]` prints a user token signed HS256 with the
/// configured key Auth:Users:SigningKey, for grpcurl, buf curl and curl; `./build.sh token` passes the key the AppHost
/// generated. A user token only: service tokens are signed with another key, which this command never reads.
/// </summary>
public static class DevelopmentTokenCommand
{
    public static bool TryRun(string[] args, IConfiguration configuration)
    {
        if (args.Length == 0 || args[0] != "mint-token")
        {
            return false;
        }
        var userId = args.Length > 1 ? Guid.Parse(args[1]) : Guid.NewGuid();
        var hours = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 12;
        var options = configuration.GetSection(UserTokenOptions.SectionName).Get<UserTokenOptions>() ?? new UserTokenOptions();
        if (SecretSettings.Refusal(UserTokenOptions.SigningKeySetting, options.SigningKey) is { } refusal)
        {
            Console.Error.WriteLine(refusal);
            Environment.ExitCode = SecretSettings.ExitCode;
            return true;
        }
        var issuer = new TokenIssuer(options.Signing, TimeProvider.System);
        Console.WriteLine(issuer.CreateUserToken(userId, TimeSpan.FromHours(hours)));
        return true;
    }
}
