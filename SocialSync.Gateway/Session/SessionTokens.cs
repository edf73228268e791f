using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Duende.IdentityModel.Client;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using SocialSync.Gateway.Extensions;

namespace SocialSync.Gateway.Session;

/// <summary>
/// The access token of the request's session, renewed with its refresh token shortly before it expires. The provider
/// rotates refresh tokens and refuses one used twice, so the calls of one session that need a renewal at the same
/// moment share a single refresh.
/// </summary>
public sealed partial class SessionTokens(
    IHttpClientFactory httpClients,
    IOptionsMonitor<OpenIdConnectOptions> oidcOptions,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SessionTokens> logger)
{
    private const string AccessToken = "access_token";
    private const string RefreshToken = "refresh_token";
    private const string ExpiresAt = "expires_at";

    private readonly ConcurrentDictionary<string, Lazy<Task<TokenResponse>>> _refreshing = new(StringComparer.Ordinal);

    /// <summary>The session's access token (renewed when near its expiry), or null when there is no session or it could not be renewed.</summary>
    public async Task<string?> GetAccessTokenAsync(HttpContext context)
    {
        var session = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        if (!session.Succeeded || session.Properties is not { } properties)
        {
            return null;
        }
        var accessToken = properties.GetTokenValue(AccessToken);
        var expiresAt = DateTimeOffset.TryParse(properties.GetTokenValue(ExpiresAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at)
            ? at
            : DateTimeOffset.MinValue;
        if (accessToken is not null && expiresAt - time.GetUtcNow() > options.Value.RefreshBefore)
        {
            return accessToken;
        }
        if (properties.GetTokenValue(RefreshToken) is not { } refreshToken)
        {
            return null;
        }

        var renewed = await RefreshOnceAsync(refreshToken, context.RequestAborted);
        if (renewed.IsError || renewed.AccessToken is null)
        {
            LogRefreshRefused(renewed.Error ?? "no access token");
            // The refresh token is spent or revoked: the session is over, and the app signs in again.
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return null;
        }
        properties.UpdateTokenValue(AccessToken, renewed.AccessToken);
        properties.UpdateTokenValue(RefreshToken, renewed.RefreshToken ?? refreshToken);
        properties.UpdateTokenValue(ExpiresAt, time.GetUtcNow().AddSeconds(renewed.ExpiresIn).ToString("o", CultureInfo.InvariantCulture));
        // The renewed tokens go back into the browser's cookie with the response.
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, session.Principal!, properties);
        return renewed.AccessToken;
    }

    private Task<TokenResponse> RefreshOnceAsync(string refreshToken, CancellationToken cancellationToken)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));
        var refresh = _refreshing.GetOrAdd(key, _ => new Lazy<Task<TokenResponse>>(() => RefreshAsync(refreshToken, key)));
        return refresh.Value.WaitAsync(cancellationToken);
    }

    private async Task<TokenResponse> RefreshAsync(string refreshToken, string key)
    {
        try
        {
            var oidc = oidcOptions.Get(OpenIdConnectDefaults.AuthenticationScheme);
            var configuration = await oidc.ConfigurationManager!.GetConfigurationAsync(CancellationToken.None);
            using var http = httpClients.CreateClient(nameof(SessionTokens));
            return await http.RequestRefreshTokenAsync(new RefreshTokenRequest
            {
                Address = configuration.TokenEndpoint,
                ClientId = oidc.ClientId!,
                RefreshToken = refreshToken,
            });
        }
        finally
        {
            // Calls that arrive a little later with the old cookie still find the answer for a while.
            _ = ForgetLaterAsync(key);
        }
    }

    private async Task ForgetLaterAsync(string key)
    {
        await Task.Delay(TimeSpan.FromMinutes(1), time);
        _refreshing.TryRemove(key, out _);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "A session's refresh was refused ({Error}); it is signed out")]
    private partial void LogRefreshRefused(string error);
}
