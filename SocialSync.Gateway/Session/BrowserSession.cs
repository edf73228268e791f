using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using SocialSync.Gateway.Extensions;

namespace SocialSync.Gateway.Session;

/// <summary>
/// The browser's session: the gateway is the web app's backend for its front end, so the browser holds only an
/// http-only, same-site cookie and never a token. Sign-in is the provider's authorization code flow with PKCE; the
/// tokens it yields stay in the (encrypted) session, and the proxy attaches the access token on the server side.
/// </summary>
public static class BrowserSession
{
    public const string CookieName = "socialsync.session";

    /// <summary>
    /// The header every state-changing call through the gateway must carry: a cross-site form cannot set it, and a
    /// cross-site script cannot send it without a CORS preflight, which the gateway never grants.
    /// </summary>
    public const string AntiforgeryHeader = "X-CSRF";

    /// <summary>A random id per session, kept in its properties: sign-out must name it, so a cross-site link cannot sign anyone out.</summary>
    public const string SessionIdItem = "session_id";

    public const string SignedInPolicy = "signed-in";

    public static void AddBrowserSession(this WebApplicationBuilder builder, GatewayOptions options)
    {
        var secure = options.RequireHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        builder.Services.AddAuthentication(auth =>
            {
                auth.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                auth.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                // Lax, not Strict: the provider's redirect back after sign-in is a top-level navigation from its page.
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = secure;
                cookie.ExpireTimeSpan = options.SessionLifetime;
                cookie.SlidingExpiration = true;
                // An API call without a session is answered 401 (the app then signs in), never redirected to a page.
                cookie.Events.OnRedirectToLogin = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                };
                cookie.Events.OnRedirectToAccessDenied = context =>
                {
                    context.Response.StatusCode = StatusCodes.Status403Forbidden;
                    return Task.CompletedTask;
                };
            })
            .AddOpenIdConnect(oidc =>
            {
                oidc.Authority = options.Authority?.AbsoluteUri
                    ?? throw new InvalidOperationException("Gateway:Authority (the OIDC provider's issuer URL) is not set.");
                oidc.RequireHttpsMetadata = options.RequireHttps;
                oidc.ClientId = options.ClientId;
                oidc.ResponseType = OpenIdConnectResponseType.Code;
                // The code comes back in the query of a top-level GET, which a Lax cookie accompanies.
                oidc.ResponseMode = OpenIdConnectResponseMode.Query;
                oidc.UsePkce = true;
                oidc.SaveTokens = true;
                oidc.MapInboundClaims = false;
                oidc.GetClaimsFromUserInfoEndpoint = false;
                oidc.Scope.Clear();
                foreach (var scope in new[] { "openid", "offline_access", "email", "profile" })
                {
                    oidc.Scope.Add(scope);
                }
                oidc.TokenValidationParameters.NameClaimType = "email";
                oidc.CorrelationCookie.SameSite = SameSiteMode.Lax;
                oidc.CorrelationCookie.SecurePolicy = secure;
                oidc.NonceCookie.SameSite = SameSiteMode.Lax;
                oidc.NonceCookie.SecurePolicy = secure;
                oidc.Events.OnTicketReceived = context =>
                {
                    context.Properties!.Items[SessionIdItem] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                    return Task.CompletedTask;
                };
            });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(SignedInPolicy, policy => policy
                .AddAuthenticationSchemes(CookieAuthenticationDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser());
    }

    /// <summary>
    /// <c>/bff/login</c> (sign in, then back to a local page), <c>/bff/user</c> (who is signed in, for the app) and
    /// <c>/bff/logout</c> (ends the session here and at the provider).
    /// </summary>
    public static void MapBrowserSessionEndpoints(this WebApplication app)
    {
        var bff = app.MapGroup("/bff");
        bff.MapGet("/login", (string? returnUrl) => Results.Challenge(
            new AuthenticationProperties { RedirectUri = LocalPathOrRoot(returnUrl) }, [OpenIdConnectDefaults.AuthenticationScheme]));

        bff.MapGet("/user", async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey(AntiforgeryHeader))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: $"The {AntiforgeryHeader} header is required.");
            }
            var session = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (!session.Succeeded)
            {
                return Results.Unauthorized();
            }
            var user = session.Principal!;
            return Results.Ok(new SignedInUser(
                user.FindFirstValue("sub") ?? "",
                user.FindFirstValue("email"),
                user.FindFirstValue("name"),
                $"/bff/logout?sid={session.Properties!.GetString(SessionIdItem)}"));
        });

        bff.MapGet("/logout", async (HttpContext context, string? sid) =>
        {
            var session = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (!session.Succeeded)
            {
                return Results.Redirect("/");
            }
            if (sid is null || sid != session.Properties!.GetString(SessionIdItem))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "sid does not name this session.");
            }
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            // The provider's end-session endpoint ends its own sign-in too, then sends the browser back here.
            return Results.SignOut(new AuthenticationProperties { RedirectUri = "/" }, [OpenIdConnectDefaults.AuthenticationScheme]);
        });
    }

    /// <summary>Only a path of this site: an open redirect to another would let a link send people elsewhere after sign-in.</summary>
    private static string LocalPathOrRoot(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";

    public sealed record SignedInUser(string Id, string? Email, string? Name, string LogoutUrl);
}
