namespace SocialSync.Contracts;

/// <summary>
/// Where a shared check records each bad field of a request, named by its path (<c>content.media[0].url</c>), so
/// every violation is reported at once rather than the first one alone.
/// </summary>
public interface IFieldViolations
{
    void Add(string field, string description);
}
