namespace SocialSync.PostsService.Domain;

/// <summary>Strings of the API's messages, which cannot be null: an empty one is a field the sender did not set.</summary>
public static class ProtoStrings
{
    /// <summary>Null for a field not set (empty), so an absent value is stored and passed on as absent.</summary>
    public static string? NullIfUnset(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
