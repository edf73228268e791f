namespace SocialSync.PostsService.Domain;

/// <summary>Protobuf strings are never null: an empty one means "not given", stored as NULL.</summary>
public static class Blank
{
    public static string? AsNull(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
