using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.Meta;

namespace SocialSync.PublisherService.Platforms.Instagram;

/// <summary>
/// Refreshes a long-lived Instagram token (GET refresh_access_token, grant_type=ig_refresh_token): Meta answers a new
/// token valid 60 days, if the old one is at least 24 hours old and has not expired. The token goes in the
/// Authorization header, never in a URL that could be logged.
/// </summary>
public sealed class InstagramTokenRefresher(GraphApiClient graph, IOptions<MetaOptions> options) : IAccessTokenRefresher
{
    public Platform Platform => Platform.Instagram;

    public string Name => "Instagram";

    public async Task<TokenRefresh> RefreshAsync(string accessToken, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await graph.GetAsync(options.Value.InstagramTokenHost, "refresh_access_token?grant_type=ig_refresh_token", accessToken,
                cancellationToken);
            var token = answer.TryGetProperty("access_token", out var value) ? value.GetString() : null;
            var expiresIn = answer.TryGetProperty("expires_in", out var seconds) && seconds.TryGetInt64(out var s) ? s : 0;
            return string.IsNullOrEmpty(token) || expiresIn <= 0
                ? new TokenNotRefreshed("Meta's answer to the token refresh carried no token or no lifetime.")
                : new RefreshedToken(token, TimeSpan.FromSeconds(expiresIn));
        }
        catch (GraphApiException ex)
        {
            return new TokenNotRefreshed(ex.Message);
        }
    }
}
