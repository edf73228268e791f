using Npgsql;
using NpgsqlTypes;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>One message status as Meta reported it, for the post and attempt its send named.</summary>
public sealed record DeliveryReport(Guid PostId, int Attempt, string CallbackRef, string Wamid, string RecipientId, string Status,
    DateTimeOffset StatusTime, int? ErrorCode, string? ErrorTitle);

/// <summary>What recording a batch of statuses did.</summary>
public sealed record DeliveryRecording(int Recorded, IReadOnlyList<Guid> ConfirmedPostIds);

/// <summary>
/// WhatsApp delivery statuses per post and recipient (<c>delivery_statuses</c>, migration 0023), and what they settle:
/// an unconfirmed post whose lost send is reported becomes published; one without any status for its attempt after
/// the reconciliation window is sent once more (docs/webhooks.md, "Never twice").
/// </summary>
public sealed class DeliveryStore(PostsDatabase database)
{
    /// <summary>
    /// Records <paramref name="reports"/> in one transaction (statuses of unknown posts are left out) and settles the
    /// unconfirmed posts they confirm. The posts' rows are locked first, in id order, so this and the automatic
    /// resend (<see cref="ResendUnconfirmedAsync"/>) never both act on one post.
    /// </summary>
    public async Task<DeliveryRecording> RecordAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var known = new HashSet<Guid>();
        await using (var lockPosts = new NpgsqlCommand(
            "select id from scheduled_posts where id = any(@ids) order by id for update", connection, transaction))
        {
            lockPosts.Parameters.AddWithValue("ids", reports.Select(r => r.PostId).Distinct().ToArray());
            await using var reader = await lockPosts.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                known.Add(reader.GetGuid(0));
            }
        }
        var recorded = reports.Where(r => known.Contains(r.PostId)).ToList();
        if (recorded.Count == 0)
        {
            return new DeliveryRecording(0, []);
        }

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            // One statement per status: a batch may hold two statuses of one message, which one INSERT could not upsert.
            foreach (var report in recorded)
            {
                batch.BatchCommands.Add(Upsert(report));
            }
            batch.BatchCommands.Add(SeenAttempts(recorded));
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        var confirmed = await ConfirmAsync(connection, transaction, recorded, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new DeliveryRecording(recorded.Count, confirmed);
    }

    /// <summary>
    /// Queues once more, due now, each unconfirmed post (at most <paramref name="max"/>) whose lost send was its last,
    /// unconfirmed since before <paramref name="cutoff"/>, with no delivery status at all for its current attempt, and
    /// not resent this way before. Its next attempt sends only what the platform state does not list as sent.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> ResendUnconfirmedAsync(DateTimeOffset cutoff, string reason, int max, CancellationToken cancellationToken)
    {
        // The outer WHERE repeats the conditions on the locked row: a status recorded meanwhile moved
        // delivery_status_attempt under the same row lock, and PostgreSQL re-checks these against that newer version.
        await using var command = database.Owner.CreateCommand("""
            update scheduled_posts p set
                status = 'queued', due_at = now(), needs_reconciliation = false, delivery_resent = true, error_message = @reason
            where p.id in (
                    select id from scheduled_posts
                    where status = 'unconfirmed' and unconfirmed_send is not null and not delivery_resent
                      and coalesce(delivery_status_attempt, 0) < attempt and updated_at <= @cutoff
                    order by updated_at
                    limit @max
                    for update skip locked)
              and p.status = 'unconfirmed' and p.unconfirmed_send is not null and not p.delivery_resent
              and coalesce(p.delivery_status_attempt, 0) < p.attempt
            returning p.id
            """);
        command.Parameters.AddWithValue("cutoff", cutoff);
        command.Parameters.AddWithValue("reason", reason);
        command.Parameters.AddWithValue("max", max);
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    private static NpgsqlBatchCommand Upsert(DeliveryReport report)
    {
        var command = new NpgsqlBatchCommand("""
            insert into delivery_statuses as d (post_id, recipient_id, wamid, attempt, callback_ref, status, error_code, error_title,
                sent_at, delivered_at, read_at, failed_at)
            values (@post_id, @recipient_id, @wamid, @attempt, @callback_ref, @status, @error_code, @error_title,
                case when @status = 'sent' then @at end, case when @status = 'delivered' then @at end,
                case when @status = 'read' then @at end, case when @status = 'failed' then @at end)
            on conflict (post_id, recipient_id, wamid) do update set
                callback_ref = coalesce(d.callback_ref, excluded.callback_ref),
                status = case when array_position(@order, excluded.status) > array_position(@order, d.status) then excluded.status else d.status end,
                error_code = coalesce(d.error_code, excluded.error_code),
                error_title = coalesce(d.error_title, excluded.error_title),
                sent_at = least(d.sent_at, excluded.sent_at),
                delivered_at = least(d.delivered_at, excluded.delivered_at),
                read_at = least(d.read_at, excluded.read_at),
                failed_at = least(d.failed_at, excluded.failed_at)
            """);
        command.Parameters.AddWithValue("post_id", report.PostId);
        command.Parameters.AddWithValue("recipient_id", report.RecipientId);
        command.Parameters.AddWithValue("wamid", report.Wamid);
        command.Parameters.AddWithValue("attempt", report.Attempt);
        command.Parameters.AddWithValue("callback_ref", report.CallbackRef);
        command.Parameters.AddWithValue("status", report.Status);
        command.Parameters.Add(new NpgsqlParameter("error_code", NpgsqlDbType.Integer) { Value = (object?)report.ErrorCode ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("error_title", NpgsqlDbType.Text) { Value = (object?)report.ErrorTitle ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = report.StatusTime.UtcDateTime });
        command.Parameters.AddWithValue("order", DeliveryRules.Order);
        return command;
    }

    private static NpgsqlBatchCommand SeenAttempts(IReadOnlyList<DeliveryReport> reports)
    {
        var latest = reports.GroupBy(r => r.PostId).Select(g => (Id: g.Key, Attempt: g.Max(r => r.Attempt))).ToList();
        var command = new NpgsqlBatchCommand("""
            update scheduled_posts p set delivery_status_attempt = greatest(coalesce(p.delivery_status_attempt, 0), u.attempt)
            from unnest(@ids, @attempts) as u(id, attempt)
            where p.id = u.id and coalesce(p.delivery_status_attempt, 0) < u.attempt
            """);
        command.Parameters.AddWithValue("ids", latest.Select(l => l.Id).ToArray());
        command.Parameters.AddWithValue("attempts", latest.Select(l => l.Attempt).ToArray());
        return command;
    }

    /// <summary>
    /// Publishes the posts whose lost send is among <paramref name="reports"/>: the very send the post is unconfirmed
    /// for (its callback reference names post, attempt and send, so a status of any other send or attempt changes
    /// nothing), while still unconfirmed, or queued for the automatic resend and not yet claimed (the resend is then
    /// not needed). The lost send may be of an earlier attempt than the post's, when a reconciling attempt found it in
    /// doubt. The post's latest run, closed as unconfirmed, becomes a success.
    /// </summary>
    private static async Task<IReadOnlyList<Guid>> ConfirmAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<DeliveryReport> reports, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            with confirmed as (
                update scheduled_posts p set
                    status = 'published', platform_post_id = coalesce(p.platform_post_id, u.wamid),
                    published_at = u.at, error_message = null, needs_reconciliation = false, unconfirmed_send = null
                from unnest(@ids, @attempts, @refs, @wamids, @ats) as u(id, attempt, ref, wamid, at)
                where p.id = u.id and p.unconfirmed_send = u.ref
                  and (p.status = 'unconfirmed' or (p.status = 'queued' and p.delivery_resent))
                returning p.id, p.attempt)
            , runs as (
                update post_runs r set status = 'success', error = null, error_class = null
                from confirmed c
                where r.scheduled_post_id = c.id and r.attempt = c.attempt and r.status = 'unconfirmed')
            select id from confirmed
            """, connection, transaction);
        command.Parameters.AddWithValue("ids", reports.Select(r => r.PostId).ToArray());
        command.Parameters.AddWithValue("attempts", reports.Select(r => r.Attempt).ToArray());
        command.Parameters.AddWithValue("refs", reports.Select(r => r.CallbackRef).ToArray());
        command.Parameters.AddWithValue("wamids", reports.Select(r => r.Wamid).ToArray());
        command.Parameters.Add(new NpgsqlParameter("ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
        {
            Value = reports.Select(r => r.StatusTime.UtcDateTime).ToArray(),
        });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }
}
