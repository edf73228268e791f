using Npgsql;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Post runs: the record of each attempt to publish. A run is opened before the platform is called (so an attempt
/// that may have reached the platform is never forgotten) and closed by the attempt's outcome; every write names
/// the claim's attempt, so a fenced-out worker changes nothing.
/// </summary>
public sealed class RunStore(PostsDatabase database)
{
    /// <summary>A user's post's latest runs, newest first; null when there is no such post of the user's.</summary>
    public Task<List<PostRun>?> ListAsync(Guid userId, Guid postId, int limit, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<List<PostRun>?>(userId, async (connection, transaction) =>
        {
            if (await PostRows.ReadStatusAsync(connection, transaction, postId, cancellationToken) is null)
            {
                return null;
            }
            await using var query = new NpgsqlCommand($"""
                select {RunRows.Columns} from post_runs where scheduled_post_id = @id
                order by started_at desc limit @limit
                """, connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            query.Parameters.AddWithValue("limit", limit);
            var runs = new List<PostRun>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                runs.Add(RunRows.Read(reader));
            }
            return runs;
        }, cancellationToken);
}
