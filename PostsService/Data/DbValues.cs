namespace SocialSync.PostsService.Data;

/// <summary>Values bound to statement parameters.</summary>
public static class DbValues
{
    /// <summary>A nullable text column's value: SQL NULL for no text (an empty string included).</summary>
    public static object TextOrNull(string? value) => string.IsNullOrEmpty(value) ? DBNull.Value : value;
}
