namespace SocialSync.PostsService.Data;

/// <summary>One page of a list: its items, the size of the whole list when the query counts it, and whether more follow.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, bool More);
