using SocialSync.Posts.V1;
using Google.Protobuf;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Domain;

/// <summary>A create request checked in everything that needs no database; its fields are named under <see cref="Prefix"/>.</summary>
public sealed record NewPost(CreatePostRequest Request, string Prefix, Guid ChannelId, DateTimeOffset PublishAt, string? TimeZone, string? Rrule)
{
    /// <summary>The creating call's span: stored with the post, so the post's trace goes on from its create.</summary>
    public string? Traceparent { get; init; }

    /// <summary>
    /// What the request asks for, when it carries a request_id: a SHA-256 of the request in canonical form, stored
    /// with the post, so that the same request_id sent with another request is told apart from a retry (AIP-155).
    /// The canonical form is the request's protobuf encoding without its request_id, with the channel id, time zone
    /// and rule as they are stored: "RRULE:FREQ=DAILY" and "FREQ=DAILY" ask for the same post. Every other field
    /// (any added later too) counts as sent. Fields are written in field-number order and the message holds no map,
    /// so equal requests encode to equal bytes.
    /// </summary>
    public byte[]? RequestHash { get; } = Request.RequestId.Length == 0 ? null : CanonicalHash(Request, ChannelId, TimeZone, Rrule);

    /// <summary>The field a refusal of this post's request_id names (e.g. "requests[3].request_id").</summary>
    public string RequestIdField => Prefix + "request_id";

    private static byte[] CanonicalHash(CreatePostRequest request, Guid channelId, string? timeZone, string? rrule)
    {
        var canonical = request.Clone();
        canonical.RequestId = "";
        canonical.ChannelId = channelId.ToString();
        canonical.TimeZone = timeZone ?? "";
        canonical.Rrule = rrule ?? "";
        return RequestHashes.Of(canonical);
    }

    /// <summary>Whether a post stored with <paramref name="storedHash"/> under this request_id was made by this same request.</summary>
    public bool IsRepeatOf(byte[]? storedHash) => RequestHashes.IsRepeat(storedHash, RequestHash);

    /// <summary>
    /// Whether the post's channel is among the user's live <paramref name="channels"/> (else the failure to answer)
    /// and its content fits that channel (else the reasons are added to <paramref name="violations"/>).
    /// </summary>
    public DomainException? CheckChannel(IReadOnlyDictionary<Guid, PostingChannel> channels, FieldViolations violations)
    {
        if (!channels.TryGetValue(ChannelId, out var target))
        {
            return new NotFoundException("channel", Request.ChannelId);
        }
        if (!target.CallerRole.Allows(WorkspaceRoles.WritePosts))
        {
            return new RoleRequiredException("write posts", WorkspaceRoles.WritePosts, target.CallerRole);
        }
        var channel = target.Channel;
        ContentRules.CheckForChannel(Request.Content, channel.Platform, channel.Settings, Prefix + "content", violations);
        ChannelSettingsRules.CheckPostRecipients(Request.Recipients, channel.Platform, Prefix + "recipients", violations);
        return null;
    }

    /// <summary>The post this request would create on <paramref name="target"/>, before it has an id, etag or times of its own.</summary>
    public ScheduledPost Preview(PostingChannel target, Guid authorId) => new()
    {
        ChannelId = ChannelId.ToString(),
        Platform = target.Channel.Platform,
        Content = Request.Content,
        PublishAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(PublishAt),
        TimeZone = TimeZone ?? "",
        Rrule = Rrule ?? "",
        Status = target.InitialStatus(Request.Draft),
        Recipients = { Request.Recipients },
        WorkspaceId = target.Channel.WorkspaceId,
        AuthorId = authorId.ToString(),
        NeedsApproval = target.NeedsApproval,
    };
}

/// <summary>A channel posts are created on, with the caller's role in its workspace and whether that workspace wants approval.</summary>
public sealed record PostingChannel(Channel Channel, WorkspaceRole CallerRole, bool WorkspaceRequiresApproval)
{
    /// <summary>Whether the caller's posts here need an editor's approval: a contributor's always do.</summary>
    public bool NeedsApproval => CallerRole == WorkspaceRole.Contributor || WorkspaceRequiresApproval || Channel.Settings.RequiresApproval;

    /// <summary>The status a new post starts in: a draft, or waiting for approval, or queued.</summary>
    public PostStatus InitialStatus(bool draft) => draft ? PostStatus.Draft : NeedsApproval ? PostStatus.PendingApproval : PostStatus.Queued;
}
