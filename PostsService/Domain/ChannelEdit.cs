using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>What an edit needs to know of the channel it changes, as read in the edit's transaction.</summary>
public sealed record EditableChannel(Platform Platform, ChannelState State, int Version, ChannelSettings Settings, string DisplayName,
    string? StateReason);

/// <summary>
/// The values a channel edit writes; the access token is replaced only when <see cref="RotateToken"/>. When the edit
/// releases a channel that held its posts (<see cref="Released"/>), the posts whose time passed meanwhile follow
/// the misfire policy.
/// </summary>
public sealed record ChannelChanges(string DisplayName, ChannelSettings Settings, ChannelState State, string? StateReason, bool RotateToken,
    ReleasedChannel? Released)
{
    /// <summary>When the rotated token expires (<see cref="TokenLifetime"/>); only written with the token.</summary>
    public DateTimeOffset? TokenExpiresAt { get; init; }
}

/// <summary>
/// A channel that stops holding its posts: in which state it held them (for the reason a missed post gives), and
/// whether the posts overdue beyond the misfire window are published anyway (else they are missed).
/// </summary>
public sealed record ReleasedChannel(ChannelState HeldIn, bool PublishLatePosts)
{
    /// <summary>How a missed post names the hold that kept it, e.g. "while the channel was paused".</summary>
    public string HoldText => HeldIn == ChannelState.Paused ? "while the channel was paused" : "while the channel needed a reconnect";
}

/// <summary>
/// An UpdateChannel request, checked in everything that needs no database (the fields it changes are
/// <see cref="Paths"/>): renames, changes settings, rotates the token, pauses or resumes (PauseChannel and
/// ResumeChannel are this edit with the path "paused" alone). Resuming, or rotating the token of a needs_reconnect
/// channel, makes it active again; <see cref="PublishLatePosts"/> says what resuming does with posts overdue beyond
/// the misfire window.
/// </summary>
public sealed record ChannelEdit(Guid ChannelId, int? Etag, IReadOnlySet<string> Paths, string DisplayName, ChannelSettings? Settings,
    bool Paused, string AccessToken, bool PublishLatePosts = false)
{
    public static readonly IReadOnlyList<string> Updatable = ["display_name", "settings", "access_token", "paused"];

    /// <summary>How long a rotated token lives, in seconds, as Meta's token answer said (0: not known).</summary>
    public long AccessTokenExpiresIn { get; init; }

    public DateTimeOffset Now { get; init; }

    /// <summary>The values to write over <paramref name="current"/>; refuses a stale etag or settings the platform does not take.</summary>
    public ChannelChanges Apply(EditableChannel current)
    {
        if (Etag is { } expected && expected != current.Version)
        {
            throw ConcurrentChangeException.StaleEtag("channel");
        }
        var settings = current.Settings;
        if (Paths.Contains("settings"))
        {
            var violations = new FieldViolations();
            settings = Settings ?? new ChannelSettings();
            ChannelSettingsRules.Check(current.Platform, settings, "settings", violations);
            violations.ThrowIfAny();
        }
        var rotate = Paths.Contains("access_token");
        var (state, reason) = (current.State, current.StateReason);
        if (Paths.Contains("paused") && Paused)
        {
            (state, reason) = (ChannelState.Paused, "Paused by the user.");
        }
        else if ((Paths.Contains("paused") && !Paused) || (rotate && state == ChannelState.NeedsReconnect))
        {
            (state, reason) = (ChannelState.Active, null);
        }
        var released = ChannelStates.HoldsPosts(current.State) && !ChannelStates.HoldsPosts(state)
            ? new ReleasedChannel(current.State, PublishLatePosts)
            : null;
        return new ChannelChanges(Paths.Contains("display_name") ? DisplayName : current.DisplayName, settings, state, reason, rotate, released)
        {
            TokenExpiresAt = rotate ? TokenLifetime.ExpiryOf(current.Platform, AccessTokenExpiresIn, Now) : null,
        };
    }
}
