using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// The SQL of import operations (0040_import_operations.sql): created with their checked rows, read by their user from
/// any replica, written chunk by chunk under a lease by one process's import worker at a time, and taken over by
/// another when that lease runs out.
/// </summary>
public sealed class ImportOperationStore(PostsDatabase database)
{
    private const string Columns = """
        id, user_id, file_sha256, total_rows, processed_rows, created_posts, existing_posts, error_code, error_message, done,
        created_at, updated_at
        """;

    /// <summary>
    /// Stores a checked import and its rows in one transaction, leased to <paramref name="leaseOwner"/>; when the user's
    /// import of the same file still runs, that one instead (Started false) and nothing is stored.
    /// </summary>
    public async Task<(StoredImport Import, bool Started)> StartAsync(Guid userId, string fileSha256, IReadOnlyList<NewPost> posts,
        Guid leaseOwner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // The unique index on running imports makes a second sending of the file wait for the first one's insert,
            // then find it: no check-then-insert race between two replicas.
            await using (var insert = new NpgsqlCommand($"""
                insert into import_operations (id, user_id, file_sha256, total_rows, lease_owner, lease_until, created_at, updated_at)
                values (@id, @user, @sha, @total, @owner, @until, @now, @now)
                on conflict (user_id, file_sha256) where not done do nothing
                returning {Columns}
                """, connection, transaction))
            {
                insert.Parameters.AddWithValue("id", Guid.CreateVersion7(now));
                insert.Parameters.AddWithValue("user", userId);
                insert.Parameters.AddWithValue("sha", fileSha256);
                insert.Parameters.AddWithValue("total", posts.Count);
                insert.Parameters.AddWithValue("owner", leaseOwner);
                insert.Parameters.AddWithValue("until", leaseUntil);
                insert.Parameters.AddWithValue("now", now);
                if (await ReadOneAsync(insert, cancellationToken) is { } created)
                {
                    await CopyRowsAsync(connection, created.Id, userId, posts, cancellationToken);
                    await transaction.CommitAsync(cancellationToken);
                    return (created, true);
                }
            }
            await using (var running = new NpgsqlCommand($"""
                select {Columns} from import_operations where user_id = @user and file_sha256 = @sha and not done
                """, connection, transaction))
            {
                running.Parameters.AddWithValue("user", userId);
                running.Parameters.AddWithValue("sha", fileSha256);
                if (await ReadOneAsync(running, cancellationToken) is { } existing)
                {
                    return (existing, false);
                }
            }
            // The running import ended between the insert and the read: this sending is a new import after all.
            await transaction.RollbackAsync(cancellationToken);
        }
    }

    private static async Task CopyRowsAsync(NpgsqlConnection connection, Guid operationId, Guid userId, IReadOnlyList<NewPost> posts,
        CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync("""
            copy import_rows (operation_id, row_index, user_id, request, prefix, channel_id, publish_at, time_zone, rrule, traceparent)
            from stdin (format binary)
            """, cancellationToken);
        for (var i = 0; i < posts.Count; i++)
        {
            var post = posts[i];
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(operationId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(i, NpgsqlDbType.Integer, cancellationToken);
            await copy.WriteAsync(userId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(post.Request.ToByteArray(), NpgsqlDbType.Bytea, cancellationToken);
            await copy.WriteAsync(post.Prefix, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(post.ChannelId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(post.PublishAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await WriteTextOrNullAsync(copy, post.TimeZone, cancellationToken);
            await WriteTextOrNullAsync(copy, post.Rrule, cancellationToken);
            await WriteTextOrNullAsync(copy, post.Traceparent, cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    // Null stays null (not ""): NewPost tells "no time zone" from an empty one only by null, as ParseCreate made it.
    private static Task WriteTextOrNullAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    /// <summary>The user's operation <paramref name="id"/>, or null (another user's is absent too: row-level security).</summary>
    public Task<StoredImport?> FindAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand($"select {Columns} from import_operations where id = @id", connection, transaction);
            query.Parameters.AddWithValue("id", id);
            return await ReadOneAsync(query, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Leases to <paramref name="leaseOwner"/> the oldest unfinished operation whose lease ran out before
    /// <paramref name="now"/> (the process writing it died or stopped), or null. One a chunk transaction still holds is
    /// skipped, so two processes never write the same operation at once.
    /// </summary>
    public async Task<StoredImport?> ClaimAbandonedAsync(Guid leaseOwner, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var claim = database.Owner.CreateCommand($"""
            update import_operations set lease_owner = @owner, lease_until = @until
            where id = (select id from import_operations where not done and lease_until < @now
                        order by lease_until limit 1 for update skip locked)
            returning {Columns}
            """);
        claim.Parameters.AddWithValue("owner", leaseOwner);
        claim.Parameters.AddWithValue("until", leaseUntil);
        claim.Parameters.AddWithValue("now", now);
        return await ReadOneAsync(claim, cancellationToken);
    }

    /// <summary>Extends <paramref name="leaseOwner"/>'s lease; false when another process took the operation or it ended.</summary>
    public async Task<bool> RenewLeaseAsync(Guid id, Guid leaseOwner, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        await using var renew = database.Owner.CreateCommand("""
            update import_operations set lease_until = @until where id = @id and lease_owner = @owner and not done
            """);
        renew.Parameters.AddWithValue("id", id);
        renew.Parameters.AddWithValue("owner", leaseOwner);
        renew.Parameters.AddWithValue("until", leaseUntil);
        return await renew.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Writes the next <paramref name="rows"/> rows of the operation after its processed rows, as its user, and records
    /// the progress in the same transaction: a crash leaves both or neither. Null when <paramref name="leaseOwner"/> no
    /// longer holds the operation (another process took it over): nothing is written then.
    /// </summary>
    public Task<WrittenImportChunk?> WriteChunkAsync(Guid id, Guid userId, int rows, Guid leaseOwner, DateTimeOffset now, DateTimeOffset leaseUntil,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<WrittenImportChunk?>(userId, async (connection, transaction) =>
        {
            int processed;
            await using (var hold = new NpgsqlCommand("""
                select processed_rows from import_operations where id = @id and lease_owner = @owner and not done for update
                """, connection, transaction))
            {
                hold.Parameters.AddWithValue("id", id);
                hold.Parameters.AddWithValue("owner", leaseOwner);
                if (await hold.ExecuteScalarAsync(cancellationToken) is not int held)
                {
                    return null;
                }
                processed = held;
            }
            var posts = await ReadRowsAsync(connection, transaction, id, processed, rows, cancellationToken);
            var written = await PostTransferStore.WriteChunkAsync(connection, transaction, userId, posts, cancellationToken);
            await using var progress = new NpgsqlCommand("""
                update import_operations
                set processed_rows = processed_rows + @rows, created_posts = created_posts + @created,
                    existing_posts = existing_posts + @existing, updated_at = @now, lease_until = @until
                where id = @id
                returning processed_rows
                """, connection, transaction);
            progress.Parameters.AddWithValue("id", id);
            progress.Parameters.AddWithValue("rows", posts.Count);
            progress.Parameters.AddWithValue("created", written.Created.Count);
            progress.Parameters.AddWithValue("existing", written.Existing);
            progress.Parameters.AddWithValue("now", now);
            progress.Parameters.AddWithValue("until", leaseUntil);
            return new WrittenImportChunk(written, (int)(await progress.ExecuteScalarAsync(cancellationToken))!);
        }, cancellationToken);

    private static async Task<List<NewPost>> ReadRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, int after, int rows,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("""
            select request, prefix, channel_id, publish_at, time_zone, rrule, traceparent from import_rows
            where operation_id = @id and row_index >= @after
            order by row_index limit @rows
            """, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        query.Parameters.AddWithValue("after", after);
        query.Parameters.AddWithValue("rows", rows);
        var posts = new List<NewPost>(rows);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            posts.Add(new NewPost(
                CreatePostRequest.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0)),
                reader.GetString(1),
                reader.GetGuid(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5))
            {
                Traceparent = reader.IsDBNull(6) ? null : reader.GetString(6),
            });
        }
        return posts;
    }

    /// <summary>
    /// Ends <paramref name="leaseOwner"/>'s operation, with <paramref name="error"/> when it failed, and deletes its rows;
    /// false when another process holds it now (that one ends it).
    /// </summary>
    public async Task<bool> FinishAsync(Guid id, Guid leaseOwner, ImportError? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var finish = new NpgsqlCommand("""
            update import_operations
            set done = true, error_code = @code, error_message = @message, updated_at = @now, ended_at = @now,
                lease_owner = null, lease_until = null
            where id = @id and lease_owner = @owner and not done
            """, connection, transaction))
        {
            finish.Parameters.AddWithValue("id", id);
            finish.Parameters.AddWithValue("owner", leaseOwner);
            finish.Parameters.Add(new NpgsqlParameter("code", NpgsqlDbType.Integer) { Value = (object?)error?.Code ?? DBNull.Value });
            finish.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Text) { Value = (object?)error?.Message ?? DBNull.Value });
            finish.Parameters.AddWithValue("now", now);
            if (await finish.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }
        await using (var rows = new NpgsqlCommand("delete from import_rows where operation_id = @id", connection, transaction))
        {
            rows.Parameters.AddWithValue("id", id);
            await rows.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Gives up <paramref name="leaseOwner"/>'s lease at once (the process is stopping), so another process resumes the operation at its next look.</summary>
    public async Task ReleaseAsync(Guid id, Guid leaseOwner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var release = database.Owner.CreateCommand("""
            update import_operations set lease_until = @now where id = @id and lease_owner = @owner and not done
            """);
        release.Parameters.AddWithValue("id", id);
        release.Parameters.AddWithValue("owner", leaseOwner);
        release.Parameters.AddWithValue("now", now);
        await release.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Deletes the operations that ended before <paramref name="endedBefore"/>; answers how many.</summary>
    public async Task<int> PruneAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken)
    {
        await using var prune = database.Owner.CreateCommand("delete from import_operations where done and ended_at < @before");
        prune.Parameters.AddWithValue("before", endedBefore);
        return await prune.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<StoredImport?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new StoredImport(
            reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6),
            reader.IsDBNull(7) ? null : reader.GetInt32(7), reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetBoolean(9),
            reader.GetFieldValue<DateTimeOffset>(10), reader.GetFieldValue<DateTimeOffset>(11));
    }
}
