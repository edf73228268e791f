using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>
/// What one accepted outcome writes: the post's new state (fenced by <see cref="Attempt"/>), its run's record when
/// it has one, whether its channel lost its token, and whether a recurring post's next occurrence follows.
/// </summary>
public sealed record OutcomeWrite(Guid PostId, int Attempt, OutcomeDecision Decision, DateTimeOffset FinishedAt, string? PlatformPostId,
    string? Permalink, string? PlatformStateJson, string? Traceparent, Guid? RunId, string? RunError, int ErrorCode, Guid ChannelId,
    bool DisconnectsChannel, bool ContinuesSeries, string? UnconfirmedSendRef = null, DateTimeOffset? ChannelRateLimitedUntil = null);

/// <summary>Where publish outcomes are recorded: <see cref="LockClaimsAsync"/> opens the batch that holds them.</summary>
public sealed class OutcomeStore(PostsDatabase database)
{
    /// <summary>
    /// Opens a transaction and locks the current claims of the posts in <paramref name="ids"/> (in id order, so
    /// concurrent batches cannot deadlock); the batch's writes then go into that transaction.
    /// </summary>
    public async Task<OutcomeBatch> LockClaimsAsync(Guid[] ids, CancellationToken cancellationToken)
    {
        var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        NpgsqlTransaction? transaction = null;
        try
        {
            transaction = await connection.BeginTransactionAsync(cancellationToken);
            var distinctIds = ids.Distinct().ToArray();
            // One round trip: the sends are read by the statement after the lock, in the same transaction, so they
            // are those of the attempts just locked.
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("""
                        select id, attempt, platform, retry_count, publish_at, channel_id, needs_reconciliation, rrule is not null
                        from scheduled_posts
                        where id = any($1) and status = 'publishing'
                        order by id
                        for update
                        """) { Parameters = { new NpgsqlParameter { Value = distinctIds } } },
                    ReportedSendsCommand(distinctIds),
                },
            };
            var claims = new Dictionary<Guid, CurrentClaim>();
            var reported = new Dictionary<(Guid, string), string>();
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    claims[reader.GetGuid(0)] = new CurrentClaim(reader.GetInt32(1), reader.GetString(2), reader.GetInt32(3),
                        reader.GetFieldValue<DateTimeOffset>(4), reader.GetGuid(5), reader.GetBoolean(6), reader.GetBoolean(7));
                }
                await reader.NextResultAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    reported[(reader.GetGuid(0), reader.GetString(1))] = reader.GetString(2);
                }
            }
            return new OutcomeBatch(connection, transaction, claims, reported);
        }
        catch
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The sends of the claimed posts that Meta already reported (callback reference to wamid), of this attempt or an
    /// earlier one in doubt (a reference names its attempt, so an outcome can only match the send it names). A status
    /// webhook can arrive before the outcome that says the send's answer was lost; <see cref="DeliveryStore"/> locks
    /// the post's row before it records one, so read after this batch's locks the list is complete.
    /// </summary>
    private static NpgsqlBatchCommand ReportedSendsCommand(Guid[] ids) =>
        new("""
            select d.post_id, d.callback_ref, min(d.wamid)
            from delivery_statuses d join scheduled_posts p on d.post_id = p.id and d.attempt <= p.attempt
            where p.id = any($1) and p.status = 'publishing' and d.callback_ref is not null
            group by d.post_id, d.callback_ref
            """) { Parameters = { new NpgsqlParameter { Value = ids } } };
}

/// <summary>
/// One batch of outcomes in one transaction, its claims locked: set-based statements update posts, runs and
/// channels once each, and queue the next occurrence of each recurring post that finished.
/// </summary>
public sealed class OutcomeBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, Dictionary<Guid, CurrentClaim> claims,
    Dictionary<(Guid PostId, string CallbackRef), string> reportedSends) : IAsyncDisposable
{
    /// <summary>The current claim of each post of the batch that is publishing.</summary>
    public IReadOnlyDictionary<Guid, CurrentClaim> Claims => claims;

    /// <summary>The claimed attempts' sends that a delivery status already reported, with the message's wamid.</summary>
    public IReadOnlyDictionary<(Guid PostId, string CallbackRef), string> ReportedSends => reportedSends;

    /// <summary>
    /// Writes the outcomes: the posts, their runs and their channels in one round trip (one batch of statements, each
    /// set-based), then the next occurrence of each recurring post that finished.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<OutcomeWrite> writes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (writes.Count == 0)
        {
            return;
        }
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(UpdatePosts(writes));
            if (UpdateRuns(writes) is { } runs)
            {
                batch.BatchCommands.Add(runs);
            }
            var disconnected = writes.Where(w => w.DisconnectsChannel).Select(w => w.ChannelId).Distinct().ToArray();
            if (disconnected.Length > 0)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand(
                    "update channels set state = 'needs_reconnect', state_reason = @reason where id = any(@ids) and not holds_posts(state)")
                {
                    Parameters = { new NpgsqlParameter("reason", OutcomeRules.ReconnectReason), new NpgsqlParameter("ids", disconnected) },
                });
            }
            var limited = writes.Where(w => w.ChannelRateLimitedUntil is not null).ToList();
            if (limited.Count > 0)
            {
                // Kept on the channel for every publisher replica (RunStore hands it out with the channel's next runs).
                batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                    update channels c set rate_limited_until = greatest(c.rate_limited_until, u.until)
                    from (select id, max(until) as until from unnest(@ids, @untils) as l(id, until) group by id) as u
                    where c.id = u.id
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter("ids", limited.Select(w => w.ChannelId).ToArray()),
                        TimestampArray("untils", limited.Select(w => w.ChannelRateLimitedUntil)),
                    },
                });
            }
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
        // A recurring post's next occurrence is created in the transaction that finishes this one.
        foreach (var write in writes.Where(w => w.ContinuesSeries))
        {
            await SeriesStatements.ScheduleNextAsync(connection, transaction, write.PostId, now, cancellationToken);
        }
    }

    public Task CommitAsync(CancellationToken cancellationToken) => transaction.CommitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }

    private static NpgsqlBatchCommand UpdatePosts(IReadOnlyList<OutcomeWrite> writes)
    {
        var update = new NpgsqlBatchCommand("""
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
                traceparent = coalesce(u.traceparent, p.traceparent),
                unconfirmed_send = case when u.status = 'unconfirmed' then u.unconfirmed_send end
            from unnest(@ids, @attempts, @statuses, @due_ats, @retry_counts, @platform_post_ids, @permalinks, @finished_ats, @errors, @platform_states, @traceparents,
                        @unconfirmed_sends)
                as u(post_id, attempt, status, due_at, retry_count, platform_post_id, permalink, finished_at, error, platform_state, traceparent,
                     unconfirmed_send)
            where p.id = any(@ids) and p.id = u.post_id and p.attempt = u.attempt
            """);
        update.Parameters.AddWithValue("ids", writes.Select(w => w.PostId).ToArray());
        update.Parameters.AddWithValue("attempts", writes.Select(w => w.Attempt).ToArray());
        update.Parameters.AddWithValue("statuses", writes.Select(w => w.Decision.Status.ToDb()).ToArray());
        update.Parameters.Add(TimestampArray("due_ats", writes.Select(w => w.Decision.DueAt)));
        update.Parameters.AddWithValue("retry_counts", writes.Select(w => w.Decision.RetryCount).ToArray());
        update.Parameters.Add(TextArray("platform_post_ids", writes.Select(w => w.PlatformPostId)));
        update.Parameters.Add(TextArray("permalinks", writes.Select(w => w.Permalink)));
        update.Parameters.Add(TimestampArray("finished_ats", writes.Select(w => (DateTimeOffset?)w.FinishedAt)));
        update.Parameters.Add(TextArray("errors", writes.Select(w => w.Decision.ErrorMessage)));
        update.Parameters.Add(TextArray("platform_states", writes.Select(w => w.PlatformStateJson)));
        update.Parameters.Add(TextArray("traceparents", writes.Select(w => w.Traceparent)));
        // The send a delivery status may still settle (DeliveryStore); any other outcome forgets it.
        update.Parameters.Add(TextArray("unconfirmed_sends", writes.Select(w => w.UnconfirmedSendRef)));
        return update;
    }

    /// <summary>The runs' closing statement; null when no outcome closes a run.</summary>
    private static NpgsqlBatchCommand? UpdateRuns(IReadOnlyList<OutcomeWrite> writes)
    {
        var runs = writes.Where(w => w.Decision.RunStatus is not null && w.RunId is not null).ToList();
        if (runs.Count == 0)
        {
            return null;
        }
        var update = new NpgsqlBatchCommand("""
            update post_runs r set status = u.status, finished_at = u.finished_at, error = u.error,
                error_code = u.error_code, error_class = u.error_class
            from unnest(@run_ids, @post_ids, @attempts, @statuses, @finished_ats, @errors, @codes, @classes)
                as u(run_id, post_id, attempt, status, finished_at, error, error_code, error_class)
            where r.id = any(@run_ids) and r.id = u.run_id and r.scheduled_post_id = u.post_id and r.attempt = u.attempt
            """);
        update.Parameters.AddWithValue("run_ids", runs.Select(r => r.RunId!.Value).ToArray());
        update.Parameters.AddWithValue("post_ids", runs.Select(r => r.PostId).ToArray());
        update.Parameters.AddWithValue("attempts", runs.Select(r => r.Attempt).ToArray());
        update.Parameters.Add(TextArray("statuses", runs.Select(r => r.Decision.RunStatus)));
        update.Parameters.Add(TimestampArray("finished_ats", runs.Select(r => (DateTimeOffset?)r.FinishedAt)));
        update.Parameters.Add(TextArray("errors", runs.Select(r => r.RunError)));
        update.Parameters.Add(new NpgsqlParameter("codes", NpgsqlDbType.Array | NpgsqlDbType.Integer)
        {
            Value = runs.Select(r => r.ErrorCode == 0 ? (int?)null : r.ErrorCode).ToArray(),
        });
        update.Parameters.Add(TextArray("classes", runs.Select(r => r.Decision.ErrorClass)));
        return update;
    }

    private static NpgsqlParameter TextArray(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };

    private static NpgsqlParameter TimestampArray(string name, IEnumerable<DateTimeOffset?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = values.Select(v => v?.UtcDateTime).ToArray(),
        };
}
