using Npgsql;
using NpgsqlTypes;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>One event due for one endpoint, claimed for an attempt: what to send, where, and with which secrets.</summary>
public sealed record DueWebhook(
    long DeliveryId, Guid EndpointId, Guid WorkspaceId, string EventId, string EventType, string Payload, int Attempt, int AttemptInSchedule,
    string Url, IReadOnlyList<string> Secrets);

/// <summary>How one attempt ended: a status code (null when no answer came) and an error for the log.</summary>
public sealed record WebhookAttemptResult(int? HttpStatus, string? Error, TimeSpan Duration)
{
    public bool Succeeded => HttpStatus is >= 200 and < 300;
}

/// <summary>
/// The delivery worker's SQL (migration 0031_webhook_endpoints.sql), as the table owner: the fan-out of new post
/// changes into delivery rows, the claim of due deliveries, and the record of each attempt with the endpoint's
/// failure count and the disabling rule. Every step is a committed row, so a restart resumes where it was.
/// </summary>
public sealed class WebhookDeliveryStore(PostsDatabase database, AccessTokenProtector protector)
{
    /// <summary>
    /// Copies the post changes committed since the last fan-out into a delivery row per enabled endpoint of their
    /// workspace whose filter takes them, and moves the shared position past them (0026's xid ranges: every change
    /// of a transaction below the statement's xmin is visible and final). Two replicas running it at once insert the
    /// same rows; the unique (endpoint, event) keeps one. Returns the rows queued, and whether changes were pruned
    /// before they could be read (PostsService was away longer than Watch:Retention).
    /// </summary>
    public async Task<(int Queued, bool Missed)> FanOutAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var fanOut = database.Owner.CreateCommand("""
            with bounds as (
                select p.xid::text::bigint as from_xid,
                       greatest(pg_snapshot_xmin(pg_current_snapshot())::text::bigint, p.xid::text::bigint) as upto,
                       h.xid::text::bigint as horizon
                from webhook_feed_position p, post_change_horizon h),
            events as (
                select c.id, c.workspace_id, c.post_id, c.kind, c.status, c.at,
                       'post.' || case when c.kind = 'status_changed' then c.status else c.kind end as type
                from post_changes c, bounds b
                where c.xid >= b.from_xid::text::xid8 and c.xid < b.upto::text::xid8
                  -- A delivery status wakes the web app's watches (0039), but is no webhook event type (WebhookRules).
                  and c.kind <> 'delivery_updated'
                  -- Without any endpoint (most of the time, under load tests), the position moves without reading changes.
                  and exists (select 1 from webhook_endpoints where enabled)),
            queued as (
                insert into webhook_deliveries (endpoint_id, workspace_id, event_id, event_type, payload, next_attempt_at)
                select e.id, ev.workspace_id, 'evt_' || ev.id, ev.type,
                       jsonb_build_object('type', ev.type,
                                          'timestamp', to_char(ev.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                          'data', jsonb_build_object('post_id', ev.post_id, 'workspace_id', ev.workspace_id,
                                                                     'status', ev.status, 'change', ev.kind, 'change_id', ev.id))::text,
                       @now
                from events ev join webhook_endpoints e
                    on e.workspace_id = ev.workspace_id and e.enabled and webhook_wants(e.event_types, ev.type)
                order by ev.id
                on conflict (endpoint_id, event_id) do nothing
                returning 1),
            moved as (
                update webhook_feed_position set xid = greatest(xid, (select upto from bounds)::text::xid8))
            select (select count(*) from queued)::int, (select horizon > from_xid from bounds)
            """);
        fanOut.Parameters.AddWithValue("now", now);
        await using var reader = await fanOut.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), reader.GetBoolean(1));
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries of enabled endpoints: counts their attempt and moves their
    /// next attempt <paramref name="lease"/> ahead, so another replica (or this one after a crash) takes them again
    /// only when the attempt's result was never recorded.
    /// </summary>
    public async Task<IReadOnlyList<DueWebhook>> ClaimDueAsync(DateTimeOffset now, TimeSpan lease, int limit, CancellationToken cancellationToken)
    {
        await using var claim = database.Owner.CreateCommand("""
            update webhook_deliveries d set attempts = d.attempts + 1, next_attempt_at = @now + @lease
            from (select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
                  where d.state = 'pending' and d.next_attempt_at <= @now and e.enabled
                  order by d.next_attempt_at limit @limit
                  for update of d skip locked) due, webhook_endpoints e
            where d.id = due.id and e.id = d.endpoint_id
            returning d.id, d.endpoint_id, d.workspace_id, d.event_id, d.event_type, d.payload, d.attempts, d.attempts - d.schedule_start,
                      e.url, e.secret_encrypted, case when e.previous_secret_until > @now then e.previous_secret_encrypted end
            """);
        claim.Parameters.AddWithValue("now", now);
        claim.Parameters.AddWithValue("lease", lease);
        claim.Parameters.AddWithValue("limit", limit);
        var due = new List<DueWebhook>();
        await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var secrets = new List<string> { protector.Unprotect(reader.GetFieldValue<byte[]>(9)) };
            if (!reader.IsDBNull(10))
            {
                secrets.Add(protector.Unprotect(reader.GetFieldValue<byte[]>(10)));
            }
            due.Add(new DueWebhook(reader.GetInt64(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetInt32(6), reader.GetInt32(7), reader.GetString(8), secrets));
        }
        return due;
    }

    /// <summary>
    /// Records an attempt: its log row; the delivery delivered, retried at <paramref name="retryAt"/> or given up (no
    /// retry left); the endpoint's failures counted or cleared; and the endpoint disabled with
    /// <paramref name="disableReason"/> once <paramref name="disableAfterFailures"/> attempts in a row failed over at
    /// least <paramref name="disableAfterFailingFor"/>, announced to the workspace's other endpoints as
    /// <see cref="WebhookRules.WebhookEndpointDisabled"/>. True when this attempt disabled it.
    /// </summary>
    public async Task<bool> RecordAttemptAsync(DueWebhook delivery, WebhookAttemptResult result, DateTimeOffset now, DateTimeOffset? retryAt,
        int disableAfterFailures, TimeSpan disableAfterFailingFor, string disableReason, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var record = new NpgsqlCommand("""
            with logged as (
                insert into webhook_delivery_attempts (delivery_id, endpoint_id, workspace_id, attempt, http_status, error, duration_ms, at)
                values (@delivery, @endpoint, @workspace, @attempt, @status, @error, @duration, @now)),
            delivery as (
                update webhook_deliveries set
                    state = case when @ok then 'delivered' when @retry_at is null then 'failed' else 'pending' end,
                    next_attempt_at = coalesce(@retry_at, next_attempt_at),
                    delivered_at = case when @ok then @now end
                where id = @delivery and attempts = @attempt)
            update webhook_endpoints set
                consecutive_failures = case when @ok then 0 else consecutive_failures + 1 end,
                failing_since = case when @ok then null else coalesce(failing_since, @now) end
            where id = @endpoint
            """, connection, transaction))
        {
            record.Parameters.AddWithValue("delivery", delivery.DeliveryId);
            record.Parameters.AddWithValue("endpoint", delivery.EndpointId);
            record.Parameters.AddWithValue("workspace", delivery.WorkspaceId);
            record.Parameters.AddWithValue("attempt", delivery.Attempt);
            record.Parameters.Add(new NpgsqlParameter("status", NpgsqlDbType.Integer) { Value = (object?)result.HttpStatus ?? DBNull.Value });
            record.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)result.Error ?? DBNull.Value });
            record.Parameters.AddWithValue("duration", (int)Math.Min(result.Duration.TotalMilliseconds, int.MaxValue));
            record.Parameters.AddWithValue("now", now);
            record.Parameters.AddWithValue("ok", result.Succeeded);
            record.Parameters.Add(new NpgsqlParameter("retry_at", NpgsqlDbType.TimestampTz) { Value = (object?)retryAt ?? DBNull.Value });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        var disabled = false;
        if (!result.Succeeded)
        {
            // After the count above committed its row lock's new values: the rule reads the endpoint as this attempt left it.
            // The workspace's other endpoints that ask for it hear of the disabling from the same transaction, like
            // channel.needs_reconnect (0031): queued only if the disabling commits, once per disabling (the event id
            // names the endpoint and the instant). The statement's snapshot still shows this endpoint enabled, hence
            // the id excluded by name.
            await using var disable = new NpgsqlCommand("""
                with disabled as (
                    update webhook_endpoints set enabled = false, disabled_reason = @reason, disabled_at = @now
                    where id = @endpoint and enabled and consecutive_failures >= @failures and failing_since <= @now - @span
                    returning id, workspace_id, url, description, consecutive_failures),
                announced as (
                    insert into webhook_deliveries (endpoint_id, workspace_id, event_id, event_type, payload)
                    select e.id, e.workspace_id, @event_id, @event_type,
                           jsonb_build_object('type', @event_type::text,
                                              'timestamp', to_char(@now at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                              'data', jsonb_build_object('endpoint_id', d.id, 'workspace_id', d.workspace_id, 'url', d.url,
                                                                         'description', d.description, 'disabled_reason', @reason::text,
                                                                         'consecutive_failures', d.consecutive_failures))::text
                    from disabled d join webhook_endpoints e
                        on e.workspace_id = d.workspace_id and e.id <> d.id and e.enabled and webhook_wants(e.event_types, @event_type)
                    on conflict (endpoint_id, event_id) do nothing)
                select count(*)::int from disabled
                """, connection, transaction);
            disable.Parameters.AddWithValue("endpoint", delivery.EndpointId);
            disable.Parameters.AddWithValue("reason", disableReason);
            disable.Parameters.AddWithValue("now", now);
            disable.Parameters.AddWithValue("failures", disableAfterFailures);
            disable.Parameters.AddWithValue("span", disableAfterFailingFor);
            disable.Parameters.AddWithValue("event_id", $"evt_endpoint_disabled_{delivery.EndpointId:N}_{now.ToUnixTimeMilliseconds()}");
            disable.Parameters.AddWithValue("event_type", WebhookRules.WebhookEndpointDisabled);
            disabled = (int)(await disable.ExecuteScalarAsync(cancellationToken))! == 1;
        }
        await transaction.CommitAsync(cancellationToken);
        return disabled;
    }

    /// <summary>
    /// Deletes up to <paramref name="limit"/> deliveries, with their attempts' log, that ended (delivered, or given
    /// up) before <paramref name="endedBefore"/>; pending ones are kept whatever their age. Returns how many went.
    /// </summary>
    public async Task<int> PruneEndedAsync(DateTimeOffset endedBefore, int limit, CancellationToken cancellationToken)
    {
        await using var prune = database.Owner.CreateCommand("""
            delete from webhook_deliveries where id in (
                select id from webhook_deliveries
                where state <> 'pending' and coalesce(delivered_at, next_attempt_at) < @ended_before
                order by coalesce(delivered_at, next_attempt_at) limit @limit)
            """);
        prune.Parameters.AddWithValue("ended_before", endedBefore);
        prune.Parameters.AddWithValue("limit", limit);
        return await prune.ExecuteNonQueryAsync(cancellationToken);
    }
}
