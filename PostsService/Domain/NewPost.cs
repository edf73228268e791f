using SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Domain;

/// <summary>A create request checked in everything that needs no database; its fields are named under <see cref="Prefix"/>.</summary>
public sealed record NewPost(CreatePostRequest Request, string Prefix, Guid ChannelId, DateTimeOffset PublishAt, string? TimeZone, string? Rrule)
{
    /// <summary>The creating call's span: stored with the post, so the post's trace goes on from its create.</summary>
    public string? Traceparent { get; init; }

    /// <summary>
    /// Whether the post's channel is among the user's live <paramref name="channels"/> (else the failure to answer)
    /// and its content fits that channel (else the reasons are added to <paramref name="violations"/>).
    /// </summary>
    public NotFoundException? CheckChannel(IReadOnlyDictionary<Guid, Channel> channels, FieldViolations violations)
    {
        if (!channels.TryGetValue(ChannelId, out var channel))
        {
            return new NotFoundException("channel", Request.ChannelId);
        }
        ContentRules.CheckForChannel(Request.Content, channel.Platform, channel.Settings, Prefix + "content", violations);
        ChannelSettingsRules.CheckPostRecipients(Request.Recipients, channel.Platform, Prefix + "recipients", violations);
        return null;
    }
}
