using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using SocialSync.Identity.Extensions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SocialSync.Identity.Clients;

/// <summary>
/// The built-in clients, written to identitydb on every start so they follow configuration: <c>socialsync-web</c>
/// (the web app; registered when its redirect URIs are configured) and <c>socialsync-cli</c> (<c>./build.sh token
/// --identity</c>, which reads the code from the redirect to a loopback address instead of listening on it). Both
/// are public clients: no secret, the authorization-code flow with PKCE required, refresh tokens.
/// </summary>
public sealed partial class ClientRegistrations(IOpenIddictApplicationManager applications, IOptions<IdentityProviderOptions> options,
    ILogger<ClientRegistrations> log)
{
    public const string WebClientId = "socialsync-web";
    public const string CliClientId = "socialsync-cli";
    public static readonly Uri CliRedirectUri = new("http://127.0.0.1/socialsync-cli/callback");

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var web = options.Value.WebClient;
        await SyncAsync(WebClientId, "SocialSync", ApplicationTypes.Web, web.RedirectUris, web.PostLogoutRedirectUris, cancellationToken);
        await SyncAsync(CliClientId, "SocialSync command line", ApplicationTypes.Native, [CliRedirectUri.AbsoluteUri], [], cancellationToken);
    }

    private async Task SyncAsync(string clientId, string displayName, string applicationType, string[] redirectUris, string[] postLogoutRedirectUris,
        CancellationToken cancellationToken)
    {
        var existing = await applications.FindByClientIdAsync(clientId, cancellationToken);
        if (redirectUris.Length == 0)
        {
            if (existing is not null)
            {
                await applications.DeleteAsync(existing, cancellationToken);
            }
            LogClientNotRegistered(clientId);
            return;
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            DisplayName = displayName,
            ApplicationType = applicationType,
            ClientType = ClientTypes.Public,
            // Consent-less: these are SocialSync's own clients, so signing in is the whole authorize step.
            ConsentType = ConsentTypes.Implicit,
            Permissions =
            {
                Permissions.Endpoints.Authorization,
                Permissions.Endpoints.Token,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode,
                Permissions.GrantTypes.RefreshToken,
                Permissions.ResponseTypes.Code,
                Permissions.Scopes.Email,
                Permissions.Scopes.Profile,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        foreach (var uri in redirectUris)
        {
            descriptor.RedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }
        foreach (var uri in postLogoutRedirectUris)
        {
            descriptor.PostLogoutRedirectUris.Add(new Uri(uri, UriKind.Absolute));
        }

        if (existing is null)
        {
            await applications.CreateAsync(descriptor, cancellationToken);
        }
        else
        {
            await applications.UpdateAsync(existing, descriptor, cancellationToken);
        }
    }

    [LoggerMessage(201, LogLevel.Information, "Client {ClientId} is not registered: no redirect URI is configured for it")]
    private partial void LogClientNotRegistered(string clientId);
}
