using Npgsql;

namespace SocialSync.PostsService.Data;

/// <summary>A change the scheduler's index needs: the post is queued (due at <see cref="DueAt"/>) or no longer is.</summary>
public sealed record OutboxChange(long ChangeId, Guid PostId, DateTimeOffset? DueAt, long Version, string? Traceparent)
{
    /// <summary>True when the post is queued and belongs in the index; false when it must leave it (or is gone).</summary>
    public bool Queued => DueAt is not null;
}

/// <summary>
/// The schedule outbox: a trigger on scheduled_posts writes a row for every change the index needs, in the same
/// transaction as the change; the scheduler relays rows to Redis and acknowledges them, which deletes them.
/// </summary>
public sealed class ScheduleOutboxStore(PostsDatabase database)
{
    // One primary-key lookup per change. A plain join's prepared (generic) plan guesses "limit $1" rows and hashes
    // the whole table instead; "offset 0" keeps the planner from flattening the lateral lookup into one.
    private const string ReadChanges = """
        select o.id, o.post_id, case when p.status = 'queued' then p.due_at end, p.version, p.traceparent
        from (select id, post_id from schedule_outbox order by id limit $1) o
        left join lateral (select status, due_at, version, traceparent from scheduled_posts where id = o.post_id offset 0) p on true
        order by o.id
        """;

    private const string DeleteChanges = "delete from schedule_outbox where id = any($1)";

    /// <summary>
    /// Deletes the <paramref name="acknowledged"/> changes and reads the oldest <paramref name="max"/> that remain, in
    /// one round trip.
    /// </summary>
    public async Task<IReadOnlyList<OutboxChange>> AcknowledgeAndReadAsync(long[] acknowledged, int max, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        if (acknowledged.Length > 0)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(DeleteChanges) { Parameters = { new NpgsqlParameter { Value = acknowledged } } });
        }
        batch.BatchCommands.Add(new NpgsqlBatchCommand(ReadChanges) { Parameters = { new NpgsqlParameter { Value = max } } });
        var changes = new List<OutboxChange>();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (acknowledged.Length > 0)
        {
            await reader.NextResultAsync(cancellationToken);
        }
        while (await reader.ReadAsync(cancellationToken))
        {
            changes.Add(new OutboxChange(
                reader.GetInt64(0),
                reader.GetGuid(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? 0 : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return changes;
    }
}
