using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// The OIDC issuer's discovery document and JWKS, as JwtBearer validates user tokens against them.
/// </summary>
/// <remarks>
/// Our own configuration manager rather than Microsoft.IdentityModel's <c>ConfigurationManager</c>, for two reasons:
/// <list type="bullet">
/// <item>A key the issuer removed (a leaked one) must stop working within <see cref="UserTokenOptions.MetadataRefreshInterval"/>
/// without a restart, and that interval must be short enough for a test to see it: ConfigurationManager refuses an
/// automatic refresh interval under 5 minutes.</item>
/// <item>A new key must work on its first token: JsonWebTokenHandler, on an unknown key id, calls <see cref="RequestRefresh"/>
/// and asks again for the configuration, and validates again only if it got a new one. Here the refresh happens in that
/// second call (awaited), not later in the background, at most once per <see cref="UserTokenOptions.UnknownKeyRefreshInterval"/>.</item>
/// </list>
/// Last-known-good configurations are off: Microsoft.IdentityModel would otherwise retry a failed token against
/// every configuration that validated a token in the last hour, and so accept a removed key.
/// When the issuer cannot be reached the keys fetched last stay in use (refusing every user would turn an
/// issuer's outage into ours), and the fetch is tried again a few seconds later.
/// </remarks>
public sealed partial class OidcSigningKeys : BaseConfigurationManager, IConfigurationManager<OpenIdConnectConfiguration>
{
    public const string HttpClientName = "oidc-metadata";
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    private readonly UserTokenOptions _options;
    private readonly HttpDocumentRetriever _retriever;
    private readonly TimeProvider _time;
    private readonly ILogger<OidcSigningKeys> _log;
    private readonly SemaphoreSlim _fetch = new(1, 1);
    private readonly Lock _gate = new();
    private OpenIdConnectConfiguration? _current;
    private DateTimeOffset _lastFetch = DateTimeOffset.MinValue;
    private DateTimeOffset _refreshAt = DateTimeOffset.MinValue;

    public OidcSigningKeys(UserTokenOptions options, IHttpClientFactory http, TimeProvider time, ILogger<OidcSigningKeys> log)
    {
        _options = options;
        _time = time;
        _log = log;
        _retriever = new HttpDocumentRetriever(http.CreateClient(HttpClientName)) { RequireHttps = options.RequireHttpsMetadata };
        MetadataAddress = MetadataAddressOf(options.Authority!);
        UseLastKnownGoodConfiguration = false;
    }

    public static string MetadataAddressOf(string authority) => authority.TrimEnd('/') + "/.well-known/openid-configuration";

    public override async Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) =>
        await GetConfigurationAsync(cancel);

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }
        await _fetch.WaitAsync(cancel);
        try
        {
            // Another caller may have fetched while this one waited.
            return Fresh() ?? await FetchAsync(cancel);
        }
        finally
        {
            _fetch.Release();
        }
    }

    /// <summary>A token named a key this configuration lacks: fetch again on the next ask, unless a fetch was just made.</summary>
    public override void RequestRefresh()
    {
        lock (_gate)
        {
            var earliest = _lastFetch + _options.UnknownKeyRefreshInterval;
            if (_refreshAt > earliest)
            {
                _refreshAt = earliest;
            }
        }
    }

    private OpenIdConnectConfiguration? Fresh()
    {
        lock (_gate)
        {
            return _current is not null && _time.GetUtcNow() < _refreshAt ? _current : null;
        }
    }

    private async Task<OpenIdConnectConfiguration> FetchAsync(CancellationToken cancel)
    {
        var started = _time.GetUtcNow();
        try
        {
            var fetched = await OpenIdConnectConfigurationRetriever.GetAsync(MetadataAddress, _retriever, cancel);
            lock (_gate)
            {
                _current = fetched;
                _lastFetch = started;
                _refreshAt = started + _options.MetadataRefreshInterval;
            }
            LogFetched(_log, fetched.Issuer, fetched.SigningKeys.Count);
            return fetched;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && _current is { } kept)
        {
            LogFetchFailed(_log, ex, MetadataAddress);
            lock (_gate)
            {
                _lastFetch = started;
                _refreshAt = started + (RetryAfterFailure < _options.MetadataRefreshInterval ? RetryAfterFailure : _options.MetadataRefreshInterval);
            }
            return kept;
        }
    }

    [LoggerMessage(9101, LogLevel.Information, "Fetched the signing keys of OIDC issuer {Issuer}: {KeyCount} keys")]
    private static partial void LogFetched(ILogger logger, string issuer, int keyCount);

    [LoggerMessage(9102, LogLevel.Warning, "Could not fetch the OIDC metadata at {MetadataAddress}; the keys fetched before stay in use")]
    private static partial void LogFetchFailed(ILogger logger, Exception exception, string metadataAddress);
}
