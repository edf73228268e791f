using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>The changes of a read of the post changes, and where the watch stands after them.</summary>
public sealed record PostChangeBatch(IReadOnlyList<PostChange> Changes, WatchPosition Next)
{
    /// <summary>More changes of the same range wait for the next read.</summary>
    public bool More => !Next.IsComplete;
}

/// <summary>
/// The post changes WatchPosts streams (migration 0026_post_changes.sql explains why they are read by transaction
/// ranges below a snapshot's xmin, not by id): read by members under row-level security, and the whole table's
/// progress and pruning for <see cref="Background.PostChangeFeed"/>.
/// </summary>
public sealed class PostChangeStore(PostsDatabase database)
{
    /// <summary>
    /// The workspaces a watch follows (the one named, or all the caller's), and the transaction a watch without a
    /// token starts at; null when the caller is not a member of the workspace named.
    /// </summary>
    public Task<(IReadOnlyList<Guid> Workspaces, long Start)?> OpenAsync(Guid userId, Guid? workspaceId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<(IReadOnlyList<Guid>, long)?>(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand(workspaceId is null
                ? "select app_workspaces('{owner,admin,editor,contributor,viewer}'), pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
                : "select array_remove(array[case when app_role(@workspace) is not null then @workspace end], null), pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                connection, transaction);
            if (workspaceId is { } named)
            {
                query.Parameters.AddWithValue("workspace", named);
            }
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            var workspaces = reader.GetFieldValue<Guid[]>(0);
            if (workspaceId is not null && workspaces.Length == 0)
            {
                return null;
            }
            return (workspaces, reader.GetInt64(1));
        }, cancellationToken);

    /// <summary>
    /// Up to <paramref name="limit"/> changes after <paramref name="position"/> that the caller may read (of
    /// <paramref name="workspaceId"/> only, when given), in id order within the range of transactions read; null when
    /// changes after the position were pruned (the token is older than the retained history).
    /// </summary>
    public Task<PostChangeBatch?> ReadAsync(Guid userId, Guid? workspaceId, WatchPosition position, int limit, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<PostChangeBatch?>(userId, async (connection, transaction) =>
        {
            // One statement, so the horizon, the xmin and the rows all come from the same snapshot: a prune commits
            // its deletions and its new horizon together, and every transaction below the xmin has ended.
            await using var query = new NpgsqlCommand($"""
                with bounds as (
                    select h.xid::text::bigint as horizon, pg_snapshot_xmin(pg_current_snapshot())::text::bigint as now_xmin
                    from post_change_horizon h)
                select b.horizon, b.now_xmin, c.id, c.post_id, c.workspace_id, c.kind, c.status, c.at
                from bounds b left join lateral (
                    select c.id, c.post_id, c.workspace_id, c.kind, c.status, c.at from post_changes c
                    where c.xid >= @from::text::xid8
                      and c.xid < (case when @complete then greatest(b.now_xmin, @from) else @upto end)::text::xid8
                      and c.id > @after and b.horizon <= @from
                      {(workspaceId is null ? "" : "and c.workspace_id = @workspace")}
                    order by c.id
                    limit @limit) c on true
                """, connection, transaction);
            query.Parameters.AddWithValue("from", position.From);
            query.Parameters.AddWithValue("upto", position.Upto);
            query.Parameters.AddWithValue("after", position.AfterId);
            query.Parameters.AddWithValue("complete", position.IsComplete);
            query.Parameters.AddWithValue("limit", limit);
            if (workspaceId is { } named)
            {
                query.Parameters.AddWithValue("workspace", named);
            }
            var changes = new List<PostChange>();
            long horizon = 0, nowXmin = 0;
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    horizon = reader.GetInt64(0);
                    nowXmin = reader.GetInt64(1);
                    if (reader.IsDBNull(2))
                    {
                        continue;
                    }
                    changes.Add(new PostChange
                    {
                        Id = reader.GetInt64(2),
                        PostId = reader.GetGuid(3).ToString(),
                        WorkspaceId = reader.GetGuid(4).ToString(),
                        Kind = ToKind(reader.GetString(5)),
                        Status = Vocabulary.ToPostStatus(reader.GetString(6)),
                        Time = Timestamp.FromDateTime(reader.GetDateTime(7)),
                    });
                }
            }
            if (horizon > position.From)
            {
                return null;
            }
            var upto = position.IsComplete ? Math.Max(nowXmin, position.From) : position.Upto;
            var next = changes.Count == limit
                ? new WatchPosition(position.From, upto, changes[^1].Id)
                : WatchPosition.At(upto);
            return new PostChangeBatch(changes, next);
        }, cancellationToken);

    /// <summary>
    /// The snapshot xmin now, and the workspaces with changes of transactions from <paramref name="from"/> below it
    /// (none when <paramref name="from"/> is null): the feed's one query for every watch of this process.
    /// </summary>
    public async Task<(long Xmin, Guid[] Workspaces)> PollAsync(long? from, CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
                   array(select distinct workspace_id from post_changes
                         where @from is not null and xid >= @from::text::xid8 and xid < pg_snapshot_xmin(pg_current_snapshot()))
            """);
        query.Parameters.Add(new NpgsqlParameter<long?>("from", NpgsqlTypes.NpgsqlDbType.Bigint) { TypedValue = from });
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetFieldValue<Guid[]>(1));
    }

    /// <summary>
    /// Deletes the changes of every transaction up to the newest one with a change older than <paramref name="cutoff"/>,
    /// and moves the horizon past it in the same transaction; the number deleted.
    /// </summary>
    public async Task<int> PruneAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // One statement: the deletions and the new horizon commit together.
        await using var prune = database.Owner.CreateCommand("""
            with cut as (select max(xid) as last from post_changes where at < @cutoff),
            horizon as (
                update post_change_horizon set xid = greatest(xid, ((select last::text::bigint from cut) + 1)::text::xid8)
                where (select last from cut) is not null)
            delete from post_changes where xid <= (select last from cut)
            """);
        prune.Parameters.AddWithValue("cutoff", cutoff);
        return await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    private static PostChangeKind ToKind(string kind) => kind switch
    {
        "created" => PostChangeKind.Created,
        "edited" => PostChangeKind.Edited,
        "status_changed" => PostChangeKind.StatusChanged,
        "deleted" => PostChangeKind.Deleted,
        "delivery_updated" => PostChangeKind.DeliveryUpdated,
        _ => PostChangeKind.Unspecified,
    };
}
