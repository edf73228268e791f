using Npgsql;

namespace SocialSync.PostsService.Data;

/// <summary>One page of a list: its items, the size of the whole list when the query counts it, and whether more follow.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int Total, bool More)
{
    /// <summary>
    /// Reads a page from a query that asked for <paramref name="pageSize"/> + 1 rows (no total): the extra row only
    /// says that more follow.
    /// </summary>
    public static async Task<Page<T>> ReadAsync(NpgsqlCommand query, int pageSize, Func<NpgsqlDataReader, T> read,
        CancellationToken cancellationToken)
    {
        var items = new List<T>(pageSize);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (items.Count == pageSize)
            {
                return new Page<T>(items, 0, More: true);
            }
            items.Add(read(reader));
        }
        return new Page<T>(items, 0, More: false);
    }
}
