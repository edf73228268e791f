namespace SocialSync.Identity.Extensions;

/// <summary>The identity provider's settings (section <c>Identity</c>; docs/security.md lists them).</summary>
public sealed class IdentityProviderOptions
{
    public const string SectionName = "Identity";

    /// <summary>The issuer URL (<c>iss</c>, discovery); the AppHost sets it to this service's http endpoint. Unset: the request's own address.</summary>
    public Uri? Issuer { get; set; }

    /// <summary>
    /// False allows plain http (a loopback run: the AppHost and the tests set it). Outside that, the OIDC endpoints
    /// refuse anything but https.
    /// </summary>
    public bool RequireHttps { get; set; } = true;

    /// <summary>The <c>aud</c> of every access token: the API that PostsService serves (its Auth:Users:Audience).</summary>
    public string Audience { get; set; } = "socialsync-api";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Failed sign-ins in a row that lock an account, and for how long.</summary>
    public int MaxFailedSignIns { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The web app (<c>socialsync-web</c>, a public client with PKCE): where it may receive codes and return after sign-out.</summary>
    public ClientUris WebClient { get; set; } = new();

    public sealed class ClientUris
    {
        public string[] RedirectUris { get; set; } = [];

        public string[] PostLogoutRedirectUris { get; set; } = [];
    }
}
