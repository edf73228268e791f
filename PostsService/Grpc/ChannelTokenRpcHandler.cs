using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// The internal RPCs PublisherService's token refresher calls: which channels' tokens expire soon, store a refreshed
/// token, mark a channel expiring. A save or a mark applies only while the channel still holds the token judged.
/// </summary>
public sealed partial class ChannelTokenRpcHandler(ChannelTokenStore tokens, ILogger<ChannelTokenRpcHandler> log)
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public async Task<ListExpiringTokensResponse> ListExpiringTokens(ListExpiringTokensRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var expireBefore = RequestFields.ParseTime(request.ExpireBefore, "expire_before", violations);
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        if (pageSize is < 1 or > MaxPageSize)
        {
            violations.Add("page_size", $"must be between 1 and {MaxPageSize}");
        }
        var after = Guid.Empty;
        if (request.PageToken.Length > 0 && !Guid.TryParse(request.PageToken, out after))
        {
            violations.Add("page_token", "is not a page token this service gave");
        }
        violations.ThrowIfAny();

        var page = await tokens.ListExpiringAsync(expireBefore!.Value, after, pageSize, context.CancellationToken);
        var response = new ListExpiringTokensResponse
        {
            NextPageToken = page.Count == pageSize ? page[^1].ChannelId.ToString() : "",
        };
        response.Tokens.AddRange(page.Select(t => new ExpiringToken
        {
            ChannelId = t.ChannelId.ToString(),
            Platform = t.Platform,
            AccountId = t.AccountId,
            AccessToken = t.AccessToken,
            ExpireTime = Timestamp.FromDateTimeOffset(t.ExpiresAt),
            MarkedExpiring = t.MarkedExpiring,
        }));
        return response;
    }

    public async Task<SaveRefreshedTokenResponse> SaveRefreshedToken(SaveRefreshedTokenRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        var expireTime = RequestFields.ParseTime(request.ExpireTime, "expire_time", violations);
        if (string.IsNullOrEmpty(request.AccessToken) || request.AccessToken.Length > 4096)
        {
            violations.Add("access_token", "is required (at most 4096 characters)");
        }
        violations.ThrowIfAny();

        var saved = await tokens.SaveRefreshedAsync(channelId!.Value, request.PreviousAccessToken, request.AccessToken, expireTime!.Value,
            context.CancellationToken);
        if (saved)
        {
            LogTokenRefreshed(request.ChannelId, expireTime.Value);
        }
        return new SaveRefreshedTokenResponse { Saved = saved };
    }

    public async Task<MarkTokenExpiringResponse> MarkTokenExpiring(MarkTokenExpiringRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 2000)
        {
            violations.Add("reason", "is required (at most 2000 characters)");
        }
        violations.ThrowIfAny();

        var marked = await tokens.MarkExpiringAsync(channelId!.Value, request.AccessToken, request.Reason, context.CancellationToken);
        if (marked)
        {
            LogMarkedExpiring(request.ChannelId);
        }
        return new MarkTokenExpiringResponse { Marked = marked };
    }

    [LoggerMessage(1, LogLevel.Information, "Channel {ChannelId}: refreshed access token stored, now expiring at {ExpiresAt}")]
    private partial void LogTokenRefreshed(string channelId, DateTimeOffset expiresAt);

    [LoggerMessage(2, LogLevel.Warning, "Channel {ChannelId}: marked expiring, its token cannot be refreshed")]
    private partial void LogMarkedExpiring(string channelId);
}
