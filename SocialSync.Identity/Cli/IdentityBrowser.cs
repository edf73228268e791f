using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;
using SocialSync.Identity.Endpoints;

namespace SocialSync.Identity.Cli;

/// <summary>
/// A user agent for the identity provider's pages, for the command line and the tests: keeps cookies, follows
/// redirects that stay on the provider, submits its forms (with their hidden fields, the antiforgery token included)
/// and stops at a redirect that leaves it (a client's redirect URI, which carries the authorization code).
/// </summary>
public sealed partial class IdentityBrowser : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient _http;

    public IdentityBrowser(Uri issuer)
    {
        Issuer = issuer;
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = issuer };
    }

    public Uri Issuer { get; }

    public CookieContainer Cookies { get; } = new();

    /// <summary>What a navigation ended on: a page of the provider, or a redirect away from it (<see cref="LeftTo"/>).</summary>
    public sealed record Page(Uri Address, HttpStatusCode Status, string Html, Uri? LeftTo)
    {
        /// <summary>The message of the page's error paragraph, if any.</summary>
        public string? Error => ErrorParagraph().Match(Html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups["text"].Value) : null;

        public string? ElementText(string id) =>
            Regex.Match(Html, $"id=\"{Regex.Escape(id)}\">(?<text>[^<]*)<") is { Success: true } m ? WebUtility.HtmlDecode(m.Groups["text"].Value) : null;
    }

    /// <summary>The code flow's proof key: the verifier stays with the client, the S256 challenge goes to the authorize step.</summary>
    public sealed record Pkce(string Verifier, string Challenge)
    {
        public static Pkce Create()
        {
            var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
            return new Pkce(verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        }
    }

    public sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("refresh_token")] string? RefreshToken,
        [property: JsonPropertyName("id_token")] string? IdentityToken,
        [property: JsonPropertyName("token_type")] string? TokenType,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("error_description")] string? ErrorDescription);

    public Task<Page> GetAsync(string pathAndQuery, CancellationToken cancellationToken = default) =>
        NavigateAsync(new HttpRequestMessage(HttpMethod.Get, pathAndQuery), cancellationToken);

    /// <summary>Submits the form of <paramref name="page"/> that posts to <paramref name="action"/> (the first form when null), its hidden fields overlaid with <paramref name="fields"/>.</summary>
    public Task<Page> SubmitAsync(Page page, IReadOnlyDictionary<string, string> fields, string? action = null, CancellationToken cancellationToken = default)
    {
        var form = FormElement().Matches(page.Html).FirstOrDefault(f => action is null || WebUtility.HtmlDecode(f.Groups["action"].Value) == action)
            ?? throw new InvalidOperationException($"No form{(action is null ? "" : " posting to " + action)} on {page.Address} ({(int)page.Status}).");
        var values = HiddenInput().Matches(form.Groups["body"].Value)
            .ToDictionary(m => WebUtility.HtmlDecode(m.Groups["name"].Value), m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        foreach (var (name, value) in fields)
        {
            values[name] = value;
        }
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(page.Address, WebUtility.HtmlDecode(form.Groups["action"].Value)))
        {
            Content = new FormUrlEncodedContent(values),
        };
        return NavigateAsync(request, cancellationToken);
    }

    /// <summary>
    /// The browser part of the authorization-code flow: the authorize request, the sign-in page (or, when
    /// <paramref name="signUpIfUnknown"/> and the sign-in is refused, the sign-up page), and the redirect back with
    /// the code. Fails with the page's message when the provider does not hand a code out.
    /// </summary>
    public async Task<string> AuthorizeAsync(string clientId, Uri redirectUri, Pkce pkce, string email, string password, bool signUpIfUnknown = false,
        string scope = "openid offline_access", CancellationToken cancellationToken = default)
    {
        var state = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));
        var page = await GetAsync(AuthorizeQuery(clientId, redirectUri, pkce.Challenge, scope, state), cancellationToken);
        if (page.LeftTo is null)
        {
            var credentials = new Dictionary<string, string> { ["email"] = email, ["password"] = password };
            var signedIn = await SubmitAsync(page, credentials, AccountEndpoints.SignInPath, cancellationToken);
            if (signedIn.Status == HttpStatusCode.BadRequest && signUpIfUnknown)
            {
                var returnUrl = Regex.Match(page.Address.Query, "[?&]returnUrl=(?<v>[^&]*)", RegexOptions.IgnoreCase).Groups["v"].Value;
                var signUp = await GetAsync($"{AccountEndpoints.SignUpPath}?returnUrl={returnUrl}", cancellationToken);
                signedIn = await SubmitAsync(signUp, credentials, AccountEndpoints.SignUpPath, cancellationToken);
            }
            page = signedIn;
        }
        var query = page.LeftTo is { } left && left.GetLeftPart(UriPartial.Path) == redirectUri.GetLeftPart(UriPartial.Path)
            ? QueryValues(left.Query)
            : throw new InvalidOperationException($"No authorization code: {page.Error ?? $"{(int)page.Status} at {page.Address}"}");
        if (query.GetValueOrDefault("state") != state)
        {
            throw new InvalidOperationException($"The redirect back carries no code for this request: {query.GetValueOrDefault("error_description") ?? query.GetValueOrDefault("error")}");
        }
        return query.GetValueOrDefault("code") ?? throw new InvalidOperationException($"No authorization code: {query.GetValueOrDefault("error")}");
    }

    public static string AuthorizeQuery(string clientId, Uri redirectUri, string codeChallenge, string scope, string state) =>
        $"{ConnectEndpoints.AuthorizePath}?client_id={Uri.EscapeDataString(clientId)}&response_type=code&redirect_uri={Uri.EscapeDataString(redirectUri.AbsoluteUri)}"
        + $"&scope={Uri.EscapeDataString(scope)}&state={state}&code_challenge={codeChallenge}&code_challenge_method=S256";

    /// <summary>A token request (form post to the token endpoint); an OAuth error comes back in the response's error fields.</summary>
    public async Task<TokenResponse> RequestTokenAsync(IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(ConnectEndpoints.TokenPath, new FormUrlEncodedContent(parameters), cancellationToken);
        return await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken)
            ?? throw new InvalidOperationException($"The token endpoint answered {(int)response.StatusCode} without a body.");
    }

    public Task<TokenResponse> RedeemCodeAsync(string clientId, Uri redirectUri, string code, string codeVerifier, CancellationToken cancellationToken = default) =>
        RequestTokenAsync(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri.AbsoluteUri,
            ["code"] = code,
            ["code_verifier"] = codeVerifier,
        }, cancellationToken);

    private async Task<Page> NavigateAsync(HttpRequestMessage first, CancellationToken cancellationToken)
    {
        var request = first;
        for (var redirects = 0; ; redirects++)
        {
            var address = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(Issuer, request.RequestUri);
            Uri next;
            using (var response = await _http.SendAsync(request, cancellationToken))
            {
                request.Dispose();
                if (response.Headers.Location is not { } location || (int)response.StatusCode is < 300 or >= 400)
                {
                    return new Page(address, response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), null);
                }
                next = location.IsAbsoluteUri ? location : new Uri(address, location);
            }
            if (next.GetLeftPart(UriPartial.Authority) != Issuer.GetLeftPart(UriPartial.Authority))
            {
                return new Page(address, HttpStatusCode.Redirect, "", next);
            }
            if (redirects == MaxRedirects)
            {
                throw new InvalidOperationException($"More than {MaxRedirects} redirects from {address}.");
            }
            request = new HttpRequestMessage(HttpMethod.Get, next);
        }
    }

    private static Dictionary<string, string> QueryValues(string query) =>
        query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<form method=\"post\" action=\"(?<action>[^\"]*)\">(?<body>.*?)</form>", RegexOptions.Singleline)]
    private static partial Regex FormElement();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\">")]
    private static partial Regex HiddenInput();

    [GeneratedRegex("<p class=\"error\" role=\"alert\">(?<text>[^<]*)</p>")]
    private static partial Regex ErrorParagraph();
}
