using SocialSync.Identity.Clients;

namespace SocialSync.Identity.Cli;

/// <summary>
/// <c>token --email E --password P [--issuer URL]</c> (what <c>./build.sh token --identity</c> runs): an access token
/// for a local account from the running identity provider, through the same authorization-code flow with PKCE as
/// the web app (client <c>socialsync-cli</c>), signing up first when the account does not exist yet.
/// </summary>
public static class IdentityTokenCommand
{
    public const string DefaultIssuer = "http://localhost:5500";

    public static async Task<bool> TryRunAsync(string[] args)
    {
        if (args is not ["token", ..])
        {
            return false;
        }
        var options = args.Skip(1).Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0], pair => pair[1]);
        if (!options.TryGetValue("--email", out var email) || !options.TryGetValue("--password", out var password))
        {
            await Console.Error.WriteLineAsync("usage: token --email EMAIL --password PASSWORD [--issuer URL]");
            Environment.ExitCode = 2;
            return true;
        }
        var issuer = new Uri(options.GetValueOrDefault("--issuer", DefaultIssuer));
        try
        {
            using var browser = new IdentityBrowser(issuer);
            var pkce = IdentityBrowser.Pkce.Create();
            var code = await browser.AuthorizeAsync(ClientRegistrations.CliClientId, ClientRegistrations.CliRedirectUri, pkce, email, password, signUpIfUnknown: true);
            var tokens = await browser.RedeemCodeAsync(ClientRegistrations.CliClientId, ClientRegistrations.CliRedirectUri, code, pkce.Verifier);
            Console.WriteLine(tokens.AccessToken ?? throw new InvalidOperationException($"{tokens.Error}: {tokens.ErrorDescription}"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            await Console.Error.WriteLineAsync($"no token from {issuer}: {ex.Message}");
            Environment.ExitCode = 1;
        }
        return true;
    }
}
