using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>What writing one chunk of an import made: new posts, and rows an earlier import of the same file had written.</summary>
public readonly record struct ImportChunkResult(IReadOnlyList<ScheduledPost> Created, int Existing);

/// <summary>
/// The SQL of CSV import and export. Imports go through the statements every create shares
/// (<see cref="PostInserts"/>), so channels, roles and approval hold for them as for CreatePost.
/// </summary>
public sealed class PostTransferStore(PostsDatabase database)
{
    /// <summary>The user's live channels among <paramref name="channelIds"/>, with the user's role in each (absent: not the user's).</summary>
    public Task<Dictionary<Guid, PostingChannel>> LoadChannelsAsync(Guid userId, Guid[] channelIds, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
            (await PostInserts.LoadChannelsAsync(connection, transaction, [(userId, channelIds)], cancellationToken))[0], cancellationToken);

    /// <summary>
    /// Writes one chunk of an import in the caller's transaction (one that sees only <paramref name="userId"/>'s rows,
    /// <see cref="ImportOperationStore.WriteChunkAsync"/>, which records the chunk's progress in it too): its channels
    /// are checked again (one may have gone since the file was checked), and a row whose request_id an earlier import
    /// used yields that import's post.
    /// </summary>
    public static async Task<ImportChunkResult> WriteChunkAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId,
        IReadOnlyList<NewPost> posts, CancellationToken cancellationToken)
    {
        var channels = await PostInserts.LoadCheckedChannelsAsync(connection, transaction, userId, posts, cancellationToken);
        var results = (await PostInserts.InsertAsync(connection, transaction, [(userId, posts, channels)], cancellationToken))[0];
        var created = results.Where(r => !r.Repeated).Select(r => r.PostOrThrow()).ToList();
        var existing = results.Count(r => r.Repeated && r.Post is not null);
        return new ImportChunkResult(created, existing);
    }

    /// <summary>
    /// The user's posts that match the filters, by publish_at, for export: of a recurring series only its first post,
    /// which carries the rule (an import makes the series again).
    /// </summary>
    public Task<List<ScheduledPost>> ExportAsync(Guid userId, PostFilter filter, DateTimeOffset? after, DateTimeOffset? before, int max,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No membership filter here: row-level security limits the rows to the caller's workspaces.
            await using var query = new NpgsqlCommand($"""
                select {PostRows.Columns} from scheduled_posts
                where (@status::text is null or status = @status)
                  and (@channel::uuid is null or channel_id = @channel)
                  and (@workspace::uuid is null or workspace_id = @workspace)
                  and (@after::timestamptz is null or publish_at >= @after)
                  and (@before::timestamptz is null or publish_at < @before)
                  and (series_id is null or series_id = id)
                order by publish_at, id
                limit @limit
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Text) { Value = (object?)filter.Status?.ToDb() ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Uuid) { Value = (object?)filter.ChannelId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)filter.WorkspaceId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.TimestampTz) { Value = (object?)after?.UtcDateTime ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("before", NpgsqlDbType.TimestampTz) { Value = (object?)before?.UtcDateTime ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", max + 1);
            var posts = new List<ScheduledPost>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                posts.Add(PostRows.Read(reader));
            }
            return posts;
        }, cancellationToken);
}
