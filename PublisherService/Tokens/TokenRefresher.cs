using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms;
using SocialSync.ServiceDefaults;

namespace SocialSync.PublisherService.Tokens;

/// <summary>
/// Keeps channels' access tokens alive: every <see cref="TokenOptions.RefreshInterval"/> it asks PostsService for the
/// channels whose token expires within the lead time, refreshes those whose platform can (<see cref="IAccessTokenRefresher"/>)
/// and stores the new token; a token that cannot be refreshed (no refresh on its platform, or a refusal) marks its
/// channel expiring once it is within <see cref="TokenOptions.ExpiringNotice"/> of its end, so the user reconnects in
/// time. A later refresh, or a reconnect, clears the mark.
/// </summary>
public sealed partial class TokenRefresher(
    PostsInternalService.PostsInternalServiceClient posts,
    IEnumerable<IAccessTokenRefresher> refreshers,
    IOptions<TokenOptions> options,
    TimeProvider time,
    ILogger<TokenRefresher> log) : BackgroundService
{
    private const int PageSize = 100;
    private readonly TokenOptions _options = options.Value;
    private readonly Dictionary<Platform, IAccessTokenRefresher> _refreshers = refreshers.ToDictionary(r => r.Platform);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RefreshInterval, time);
        do
        {
            try
            {
                await RefreshDueAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The next round tries again: a token is refreshed days before it expires.
                LogRoundFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One round: every channel whose token expires within the lead time (or the notice), page by page.</summary>
    private async Task RefreshDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var horizon = now + (_options.RefreshLeadTime > _options.ExpiringNotice ? _options.RefreshLeadTime : _options.ExpiringNotice);
        var pageToken = "";
        do
        {
            ListExpiringTokensResponse page;
            // Nearly every round finds nothing: untraced, or it would make a trace per round. A refresh is traced.
            using (SocialSyncTelemetry.Quiet())
            {
                page = await posts.ListExpiringTokensAsync(
                    new ListExpiringTokensRequest { ExpireBefore = Timestamp.FromDateTimeOffset(horizon), PageSize = PageSize, PageToken = pageToken },
                    deadline: time.GetUtcNow().UtcDateTime.AddSeconds(30), cancellationToken: cancellationToken);
            }
            foreach (var token in page.Tokens)
            {
                await KeepAliveAsync(token, now, cancellationToken);
            }
            pageToken = page.NextPageToken;
        }
        while (pageToken.Length > 0);
    }

    private async Task KeepAliveAsync(ExpiringToken token, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var expiresAt = token.ExpireTime.ToDateTimeOffset();
        string reason;
        if (_refreshers.TryGetValue(token.Platform, out var refresher))
        {
            switch (await refresher.RefreshAsync(token.AccessToken, cancellationToken))
            {
                case RefreshedToken refreshed:
                    var saved = await posts.SaveRefreshedTokenAsync(new SaveRefreshedTokenRequest
                    {
                        ChannelId = token.ChannelId,
                        PreviousAccessToken = token.AccessToken,
                        AccessToken = refreshed.AccessToken,
                        ExpireTime = Timestamp.FromDateTimeOffset(now + refreshed.ExpiresIn),
                    }, deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
                    LogRefreshed(token.ChannelId, now + refreshed.ExpiresIn, saved.Saved);
                    return;
                case TokenNotRefreshed notRefreshed:
                    LogNotRefreshed(token.ChannelId, notRefreshed.Reason);
                    reason = $"The {refresher.Name} access token expires at {expiresAt:yyyy-MM-dd HH:mm} UTC and could not be refreshed ({notRefreshed.Reason}). Reconnect the channel with a new token before then.";
                    break;
                default:
                    return;
            }
        }
        else
        {
            if (token.MarkedExpiring)
            {
                return;
            }
            reason = $"The access token expires at {expiresAt:yyyy-MM-dd HH:mm} UTC and cannot be refreshed. Reconnect the channel with a new token before then.";
        }

        if (expiresAt - now <= _options.ExpiringNotice)
        {
            var marked = await posts.MarkTokenExpiringAsync(
                new MarkTokenExpiringRequest { ChannelId = token.ChannelId, AccessToken = token.AccessToken, Reason = reason },
                deadline: time.GetUtcNow().UtcDateTime.AddSeconds(10), cancellationToken: cancellationToken);
            if (marked.Marked)
            {
                LogMarkedExpiring(token.ChannelId, expiresAt);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Channel {ChannelId}: access token refreshed, now expiring at {ExpiresAt} (stored: {Saved})")]
    private partial void LogRefreshed(string channelId, DateTimeOffset expiresAt, bool saved);

    [LoggerMessage(2, LogLevel.Warning, "Channel {ChannelId}: access token not refreshed: {Reason}")]
    private partial void LogNotRefreshed(string channelId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Channel {ChannelId}: marked expiring; its token ends at {ExpiresAt} and cannot be refreshed")]
    private partial void LogMarkedExpiring(string channelId, DateTimeOffset expiresAt);

    [LoggerMessage(4, LogLevel.Warning, "A token refresh round failed; the next round tries again")]
    private partial void LogRoundFailed(Exception exception);
}
