namespace SocialSync.MediaInspection;

/// <summary>How media URLs are checked (configuration section <c>Media</c>).</summary>
public sealed class MediaOptions
{
    public const string Section = "Media";

    /// <summary>
    /// Whether PostsService fetches and checks media at create, update and before publishing. Off unless set: a
    /// service without it only checks a URL's shape, as before (the AppHost turns it on).
    /// </summary>
    public bool Checks { get; set; }

    /// <summary>
    /// Hosts (exact names, e.g. <c>localhost</c>) or address ranges in CIDR form (e.g. <c>127.0.0.1/32</c>) that may be
    /// fetched although they are internal: the local Graph API emulator and test servers. Empty in production.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>The longest a whole inspection (every redirect included) may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many of the first bytes are read: enough for every header the rules need, never the whole file.</summary>
    public int MaxBytes { get; set; } = 256 * 1024;

    /// <summary>How many redirects are followed, each one checked like the first address.</summary>
    public int MaxRedirects { get; set; } = 3;

    /// <summary>How many URL + ETag results are kept.</summary>
    public int CacheEntries { get; set; } = 1000;
}
