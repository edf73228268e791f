namespace SocialSync.Contracts;

/// <summary>
/// Why a platform call did not publish: PublisherService classifies a platform's error into one of these, and
/// PostsService records it on the post's run (<see cref="Vocabulary.ToDb(ErrorClass)"/>) and in its metrics.
/// </summary>
public enum ErrorClass
{
    /// <summary>Worth retrying after a back-off; each retry counts.</summary>
    Transient,

    /// <summary>The platform asks to wait; the post is deferred without using a retry.</summary>
    RateLimited,

    /// <summary>The channel's access was refused; the user must reconnect it.</summary>
    Auth,

    /// <summary>Retrying cannot help (invalid content, an unknown error code).</summary>
    Permanent,

    /// <summary>The platform call may or may not have gone out (an unconfirmed post); a person decides.</summary>
    Ambiguous,
}
