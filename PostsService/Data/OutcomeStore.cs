using Npgsql;
using NpgsqlTypes;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>A post's current claim, locked for the outcome of its attempt.</summary>
public sealed record ClaimRow(Guid PostId, int Attempt, string Platform, int RetryCount, DateTimeOffset PublishAt, Guid ChannelId,
    bool NeedsReconciliation, bool Recurring);

/// <summary>What an accepted outcome writes: the post's new state and its run's record.</summary>
public sealed record OutcomeWrite(Guid PostId, int Attempt, Guid? RunId, OutcomeDecision Decision, DateTimeOffset FinishedAt,
    string? PlatformPostId, string? Permalink, string? PlatformStateJson, string? RunError, int? ErrorCode, string? Traceparent,
    bool ChannelNeedsReconnect, bool Recurring);

/// <summary>
/// Outcomes are applied in one transaction with set-based statements: <see cref="BeginAsync"/> locks the current
/// claims (in id order, so concurrent batches cannot deadlock); the caller decides each outcome against its claim;
/// <see cref="OutcomeTransaction.WriteAsync"/> updates posts, runs and channels once each and queues the next
/// occurrence of recurring posts.
/// </summary>
public sealed class OutcomeStore(PostsDatabase database)
{
    private const string LockClaims = """
        select id, attempt, platform, retry_count, publish_at, channel_id, needs_reconciliation, rrule is not null
        from scheduled_posts
        where id = any($1) and status = 'publishing'
        order by id
        for update
        """;

    /// <summary>Opens the outcome transaction and locks the claims of <paramref name="postIds"/> that are publishing.</summary>
    public async Task<OutcomeTransaction> BeginAsync(Guid[] postIds, CancellationToken cancellationToken)
    {
        var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var claims = new Dictionary<Guid, ClaimRow>(postIds.Length);
            await using (var command = new NpgsqlCommand(LockClaims, connection, transaction) { Parameters = { new NpgsqlParameter { Value = postIds } } })
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var claim = new ClaimRow(reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2), reader.GetInt32(3),
                        reader.GetFieldValue<DateTimeOffset>(4), reader.GetGuid(5), reader.GetBoolean(6), reader.GetBoolean(7));
                    claims[claim.PostId] = claim;
                }
            }
            return new OutcomeTransaction(connection, transaction, claims);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}

/// <summary>One batch of outcomes being applied: the locked claims, then the writes, then the commit.</summary>
public sealed class OutcomeTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<Guid, ClaimRow> claims)
    : IAsyncDisposable
{
    private const string UpdatePosts = """
        update scheduled_posts p set
            status = u.status,
            due_at = coalesce(u.due_at, p.due_at),
            retry_count = u.retry_count,
            platform_post_id = coalesce(u.platform_post_id, p.platform_post_id),
            permalink = coalesce(u.permalink, p.permalink),
            published_at = case when u.status = 'published' then u.finished_at else p.published_at end,
            error_message = u.error,
            platform_state = coalesce(u.platform_state::jsonb, p.platform_state),
            lease_expires_at = null,
            needs_reconciliation = case when u.status = 'published' then false else p.needs_reconciliation end,
            traceparent = coalesce(u.traceparent, p.traceparent)
        from unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::int[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])
            as u(post_id, attempt, status, due_at, retry_count, platform_post_id, permalink, finished_at, error, platform_state, traceparent)
        where p.id = any($1) and p.id = u.post_id and p.attempt = u.attempt
        """;

    private const string UpdateRuns = """
        update post_runs r set status = u.status, finished_at = u.finished_at, error = u.error,
            error_code = u.error_code, error_class = u.error_class
        from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::timestamptz[], $6::text[], $7::int[], $8::text[])
            as u(run_id, post_id, attempt, status, finished_at, error, error_code, error_class)
        where r.id = any($1) and r.id = u.run_id and r.scheduled_post_id = u.post_id and r.attempt = u.attempt
        """;

    private const string MarkNeedsReconnect =
        "update channels set state = 'needs_reconnect', state_reason = $1 where id = any($2) and state = 'active'";

    private const string NeedsReconnectReason = "The platform rejected the access token; reconnect the account and rotate its token.";

    /// <summary>The claims locked by this transaction, by post id: an outcome for any other attempt is stale.</summary>
    public IReadOnlyDictionary<Guid, ClaimRow> Claims => claims;

    /// <summary>Writes the accepted outcomes; nothing is visible until <see cref="CommitAsync"/>.</summary>
    public async Task WriteAsync(IReadOnlyList<OutcomeWrite> writes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
        {
            return;
        }
        await ExecuteAsync(UpdatePosts, cancellationToken,
            writes.Select(w => w.PostId).ToArray(),
            writes.Select(w => w.Attempt).ToArray(),
            writes.Select(w => w.Decision.Status).ToArray(),
            writes.Select(w => w.Decision.DueAt?.UtcDateTime).ToArray(),
            writes.Select(w => w.Decision.RetryCount).ToArray(),
            writes.Select(w => w.PlatformPostId).ToArray(),
            writes.Select(w => w.Permalink).ToArray(),
            writes.Select(w => (DateTime?)w.FinishedAt.UtcDateTime).ToArray(),
            writes.Select(w => w.Decision.ErrorMessage).ToArray(),
            writes.Select(w => w.PlatformStateJson).ToArray(),
            writes.Select(w => w.Traceparent).ToArray());

        var runs = writes.Where(w => w.Decision.RunStatus is not null && w.RunId is not null).ToList();
        if (runs.Count > 0)
        {
            await ExecuteAsync(UpdateRuns, cancellationToken,
                runs.Select(r => r.RunId!.Value).ToArray(),
                runs.Select(r => r.PostId).ToArray(),
                runs.Select(r => r.Attempt).ToArray(),
                runs.Select(r => r.Decision.RunStatus).ToArray(),
                runs.Select(r => (DateTime?)r.FinishedAt.UtcDateTime).ToArray(),
                runs.Select(r => r.RunError).ToArray(),
                runs.Select(r => r.ErrorCode).ToArray(),
                runs.Select(r => r.Decision.ErrorClass).ToArray());
        }

        var reconnect = writes.Where(w => w.ChannelNeedsReconnect).Select(w => claims[w.PostId].ChannelId).Distinct().ToArray();
        if (reconnect.Length > 0)
        {
            await ExecuteAsync(MarkNeedsReconnect, cancellationToken, NeedsReconnectReason, reconnect);
        }
        // A recurring post's next occurrence is created in the transaction that finishes this one.
        foreach (var write in writes.Where(w => w.Recurring))
        {
            await SeriesStatements.QueueNextOccurrenceAsync(connection, transaction, write.PostId, write.Decision.Status, now, cancellationToken);
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params object[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
