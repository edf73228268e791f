using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using SocialSync.Identity.Clients;
using SocialSync.Identity.Extensions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace SocialSync.Identity.Endpoints;

/// <summary>
/// The OIDC endpoints OpenIddict passes through to us once it has validated the request (client, redirect URI,
/// PKCE, code or refresh token): here we decide who the token is for. Every token is built from the user's current
/// account, so a deleted or locked-out account gets no new token, not even from a refresh token or a script client.
/// </summary>
public static class ConnectEndpoints
{
    public const string AuthorizePath = "/connect/authorize";
    public const string TokenPath = "/connect/token";
    public const string EndSessionPath = "/connect/endsession";

    public static void MapConnectEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(AuthorizePath, [HttpMethods.Get, HttpMethods.Post], AuthorizeAsync);
        app.MapPost(TokenPath, ExchangeAsync);
        app.MapMethods(EndSessionPath, [HttpMethods.Get, HttpMethods.Post], EndSessionAsync);
    }

    /// <summary>The consent-less authorize step: a signed-in user is authorized at once; anyone else signs in first.</summary>
    private static async Task<IResult> AuthorizeAsync(HttpContext context, UserManager<IdentityUser<Guid>> users, SignInManager<IdentityUser<Guid>> signIn,
        IOptions<IdentityProviderOptions> options)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("OpenIddict passes only OIDC requests here.");
        var cookie = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = cookie.Succeeded && !request.HasPromptValue(PromptValues.Login) ? await users.GetUserAsync(cookie.Principal) : null;
        if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user))
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Refuse(Errors.LoginRequired, "The user is not signed in.");
            }
            // Back here after signing in, without prompt=login (it would ask again forever).
            var parameters = (context.Request.HasFormContentType ? context.Request.Form.ToList() : context.Request.Query.ToList())
                .Where(p => p.Key != Parameters.Prompt)
                .Append(KeyValuePair.Create(Parameters.Prompt, new StringValues(string.Join(' ', request.GetPromptValues().Remove(PromptValues.Login)))));
            return Results.Challenge(new AuthenticationProperties { RedirectUri = context.Request.PathBase + context.Request.Path + QueryString.Create(parameters) },
                [IdentityConstants.ApplicationScheme]);
        }

        return Results.SignIn(CreatePrincipal(user, request.GetScopes(), options.Value.Audience), properties: null,
            OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> ExchangeAsync(HttpContext context, UserManager<IdentityUser<Guid>> users, SignInManager<IdentityUser<Guid>> signIn,
        ScriptClients scriptClients, IOptions<IdentityProviderOptions> options)
    {
        var request = context.GetOpenIddictServerRequest() ?? throw new InvalidOperationException("OpenIddict passes only OIDC requests here.");
        string? userId;
        IEnumerable<string> scopes;
        if (request.IsClientCredentialsGrantType())
        {
            // A script client acts as the user who created it.
            userId = (await scriptClients.FindOwnerAsync(request.ClientId!, context.RequestAborted))?.ToString();
            scopes = request.GetScopes();
        }
        else if (request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType())
        {
            var granted = (await context.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
            userId = granted?.GetClaim(Claims.Subject);
            scopes = granted?.GetScopes() ?? [];
        }
        else
        {
            return Refuse(Errors.UnsupportedGrantType, "This grant type is not supported.");
        }

        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user))
        {
            return Refuse(Errors.InvalidGrant, "The account is no longer allowed to sign in.");
        }
        return Results.SignIn(CreatePrincipal(user, scopes, options.Value.Audience), properties: null,
            OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static async Task<IResult> EndSessionAsync(SignInManager<IdentityUser<Guid>> signIn)
    {
        await signIn.SignOutAsync();
        // OpenIddict redirects to the client's post_logout_redirect_uri when it is registered, else here.
        return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
    }

    /// <summary>
    /// Who the tokens are for: <c>sub</c> = the user's id, <c>aud</c> = the API; with the email scope, the address in
    /// both tokens (PostsService shows it to the user's teammates on the Members page). No role reaches the access
    /// token, so no token of ours can pass for a service.
    /// </summary>
    private static ClaimsPrincipal CreatePrincipal(IdentityUser<Guid> user, IEnumerable<string> scopes, string audience)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Email, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id.ToString());
        identity.SetClaim(Claims.Email, user.Email);
        identity.SetScopes(scopes);
        identity.SetAudiences(audience);
        identity.SetDestinations(claim => claim.Type switch
        {
            Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Email when identity.HasScope(Scopes.Email) => [Destinations.AccessToken, Destinations.IdentityToken],
            _ => [],
        });
        return new ClaimsPrincipal(identity);
    }

    private static IResult Refuse(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
