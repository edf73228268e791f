using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>The public channel API: each call parses its request, calls <see cref="ChannelStore"/> and answers.</summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed partial class ChannelGrpcService(ChannelStore channels, RetryPolicy retryPolicy, PostsMetrics metrics, TimeProvider time,
    ILogger<ChannelGrpcService> log) : ChannelService.ChannelServiceBase
{
    private static readonly IReadOnlySet<string> PausedOnly = new HashSet<string> { "paused" };

    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 100;

    public override async Task<Channel> CreateChannel(CreateChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        if (request.Platform == Platform.Unspecified || !System.Enum.IsDefined(request.Platform))
        {
            violations.Add("platform", "must be whatsapp or instagram");
        }
        if (string.IsNullOrWhiteSpace(request.AccountId) || request.AccountId.Length > 128)
        {
            violations.Add("account_id", "is required (at most 128 characters)");
        }
        if (string.IsNullOrWhiteSpace(request.AccessToken) || request.AccessToken.Length > 4096)
        {
            violations.Add("access_token", "is required (at most 4096 characters)");
        }
        if (request.DisplayName.Length > 200)
        {
            violations.Add("display_name", "must be at most 200 characters");
        }
        ChannelSettingsRules.Check(request.Platform, request.Settings, "settings", violations);
        TokenLifetime.Check(request.AccessTokenExpiresIn, "access_token_expires_in", violations);
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        violations.ThrowIfAny();

        return await channels.CreateAsync(userId, workspaceId,
            new NewChannel(request.Platform, request.AccountId, request.DisplayName, request.AccessToken, request.Settings)
            {
                TokenExpiresAt = TokenLifetime.ExpiryOf(request.Platform, request.AccessTokenExpiresIn, time.GetUtcNow()),
            },
            context.CancellationToken) ?? throw new NotFoundException("workspace", request.WorkspaceId);
    }

    public override async Task<Channel> GetChannel(GetChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var id = RequestFields.RequireId(request.Id, "id");
        return await channels.GetAsync(userId, id, context.CancellationToken) ?? throw new NotFoundException("channel", request.Id);
    }

    public override async Task<ListChannelsResponse> ListChannels(ListChannelsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        if (request.PlatformFilter != Platform.Unspecified && !System.Enum.IsDefined(request.PlatformFilter))
        {
            violations.Add("platform_filter", "is not a known platform");
        }
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations, DefaultPageSize, MaxPageSize);
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        violations.ThrowIfAny();

        var platform = request.PlatformFilter == Platform.Unspecified ? (Platform?)null : request.PlatformFilter;
        var page = await channels.ListAsync(userId, workspaceId, platform, pageSize, offset, context.CancellationToken);
        return new ListChannelsResponse { Channels = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }

    public override async Task<Channel> UpdateChannel(UpdateChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, ChannelEdit.Updatable, field => field switch
        {
            "display_name" => request.DisplayName.Length > 0,
            "settings" => request.Settings is not null,
            "access_token" => request.AccessToken.Length > 0,
            "paused" => request.HasPaused,
            _ => false,
        }, violations);
        if (request.DisplayName.Length > 200)
        {
            violations.Add("display_name", "must be at most 200 characters");
        }
        if (paths.Contains("access_token") && (string.IsNullOrWhiteSpace(request.AccessToken) || request.AccessToken.Length > 4096))
        {
            violations.Add("access_token", "is required to rotate the token (at most 4096 characters)");
        }
        TokenLifetime.Check(request.AccessTokenExpiresIn, "access_token_expires_in", violations);
        violations.ThrowIfAny();

        var edit = new ChannelEdit(id!.Value, etag, paths, request.DisplayName, request.Settings, request.Paused, request.AccessToken)
        {
            AccessTokenExpiresIn = request.AccessTokenExpiresIn,
        };
        return await ApplyAsync(userId, edit, request.Id, context.CancellationToken);
    }

    /// <summary>UpdateChannel with paused = true: the channel's queued posts leave the scheduler's index.</summary>
    public override async Task<Channel> PauseChannel(PauseChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await ApplyAsync(userId, new ChannelEdit(id, etag, PausedOnly, "", null, Paused: true, AccessToken: ""), request.Id,
            context.CancellationToken);
    }

    /// <summary>UpdateChannel with paused = false, choosing what happens to posts overdue beyond the misfire window.</summary>
    public override async Task<Channel> ResumeChannel(ResumeChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await ApplyAsync(userId, new ChannelEdit(id, etag, PausedOnly, "", null, Paused: false, AccessToken: "",
            PublishLatePosts: request.PublishLatePosts), request.Id, context.CancellationToken);
    }

    private async Task<Channel> ApplyAsync(Guid userId, ChannelEdit edit, string requestedId, CancellationToken cancellationToken)
    {
        var window = retryPolicy.Options.MisfireWindow;
        var now = time.GetUtcNow();
        var update = await channels.UpdateAsync(userId, edit with { Now = now }, now, window, cancellationToken)
            ?? throw new NotFoundException("channel", requestedId);
        if (update.MissedLatePosts > 0)
        {
            LogMissedOnRelease(update.MissedLatePosts, update.Channel.Id, DurationText.Describe(window));
            metrics.Missed(update.MissedLatePosts);
        }
        return update.Channel;
    }

    /// <summary>
    /// Deletes a channel: refused (FAILED_PRECONDITION) while any of its posts is publishing. Its queued posts are
    /// cancelled; failed, missed and unconfirmed posts stay as they are and can no longer be queued again.
    /// </summary>
    public override async Task<Empty> DeleteChannel(DeleteChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await channels.DeleteAsync(userId, id, etag, time.GetUtcNow(), context.CancellationToken)
            ? new Empty()
            : throw new NotFoundException("channel", request.Id);
    }

    [LoggerMessage(1, LogLevel.Warning, "Marked {Count} posts of channel {ChannelId} missed on its release: overdue beyond the misfire window of {Window}")]
    private partial void LogMissedOnRelease(int count, string channelId, string window);
}
