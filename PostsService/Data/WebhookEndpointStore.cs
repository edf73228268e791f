using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>What an update of an endpoint changes: the fields not null.</summary>
public sealed record WebhookEndpointEdit(Guid Id, string? Url, string? Description, IReadOnlyList<string>? EventTypes, bool? Enabled)
{
    public static readonly string[] Updatable = ["url", "description", "event_types", "enabled"];
}

/// <summary>
/// A workspace's webhook endpoints and their delivery logs (migration 0031_webhook_endpoints.sql), as the caller sees
/// them under row-level security: another workspace's endpoint is NOT_FOUND, and every call needs
/// <see cref="WorkspaceRoles.ManageWebhooks"/> in the endpoint's workspace, checked first (PERMISSION_DENIED). Secrets
/// are stored encrypted and leave only in the answers of create and rotation.
/// </summary>
public sealed class WebhookEndpointStore(PostsDatabase database, AccessTokenProtector protector)
{
    private const string Columns = """
        id, workspace_id, url, description, event_types, enabled, disabled_reason, disabled_at, consecutive_failures,
        previous_secret_until, created_by, created_at, updated_at
        """;

    /// <summary>Adds an endpoint to its workspace (the caller's personal one when none is named); NOT_FOUND when the caller is not a member of the one named.</summary>
    public Task<WebhookEndpoint> CreateAsync(Guid userId, Guid? workspaceId, string url, string description, IReadOnlyList<string> eventTypes, string secret,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var workspace = await WorkspaceAccess.RequireTargetAsync(connection, transaction, userId, workspaceId, WorkspaceRoles.ManageWebhooks,
                "manage webhooks", cancellationToken) ?? throw new NotFoundException("workspace", workspaceId.ToString()!);
            await using var insert = new NpgsqlCommand($"""
                insert into webhook_endpoints (workspace_id, url, description, event_types, secret_encrypted, created_by)
                values (@workspace, @url, @description, @types, @secret, @user)
                returning {Columns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("workspace", workspace);
            insert.Parameters.AddWithValue("url", url);
            insert.Parameters.AddWithValue("description", description);
            insert.Parameters.AddWithValue("types", eventTypes.Distinct().ToArray());
            insert.Parameters.AddWithValue("secret", protector.Protect(secret));
            insert.Parameters.AddWithValue("user", userId);
            return (await ReadSingleAsync(insert, cancellationToken))!;
        }, cancellationToken);

    public Task<WebhookEndpoint> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, (connection, transaction) => LoadManagedAsync(connection, transaction, id, "read webhooks", cancellationToken),
            cancellationToken);

    /// <summary>The endpoints of the workspaces the caller manages webhooks in (or of the one named), oldest first.</summary>
    public Task<Page<WebhookEndpoint>> ListAsync(Guid userId, Guid? workspaceId, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (workspaceId is { } named)
            {
                var role = await WorkspaceAccess.RoleInAsync(connection, transaction, named, cancellationToken);
                if (role == WorkspaceRole.Unspecified)
                {
                    throw new NotFoundException("workspace", named.ToString());
                }
                role.Require(WorkspaceRoles.ManageWebhooks, "read webhooks");
            }
            await using var query = new NpgsqlCommand($$"""
                select {{Columns}} from webhook_endpoints
                where workspace_id = any ((select app_workspaces('{owner,admin}'))::uuid[])
                  and (@workspace::uuid is null or workspace_id = @workspace)
                order by created_at, id limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            return await Page<WebhookEndpoint>.ReadAsync(query, pageSize, Read, cancellationToken);
        }, cancellationToken);

    /// <summary>Changes the fields the edit carries. Enabling an endpoint clears its failures and disabling reason, and makes its pending events due now.</summary>
    public Task<WebhookEndpoint> UpdateAsync(Guid userId, WebhookEndpointEdit edit, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var current = await LoadManagedAsync(connection, transaction, edit.Id, "change webhooks", cancellationToken);
            var enabling = edit.Enabled == true && !current.Enabled;
            await using var update = new NpgsqlCommand($"""
                update webhook_endpoints set
                    url = coalesce(@url, url),
                    description = coalesce(@description, description),
                    event_types = coalesce(@types, event_types),
                    enabled = coalesce(@enabled, enabled),
                    disabled_reason = case when @enabled is null or not (@enabled or enabled) then disabled_reason when @enabled then null
                                           else 'Disabled by a user.' end,
                    disabled_at = case when @enabled is null then disabled_at when @enabled then null else coalesce(disabled_at, @now) end,
                    consecutive_failures = case when @enabling then 0 else consecutive_failures end,
                    failing_since = case when @enabling then null else failing_since end,
                    version = version + 1
                where id = @id
                returning {Columns}
                """, connection, transaction);
            update.Parameters.AddWithValue("id", edit.Id);
            update.Parameters.Add(new NpgsqlParameter("url", NpgsqlDbType.Text) { Value = (object?)edit.Url ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("description", NpgsqlDbType.Text) { Value = (object?)edit.Description ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("types", NpgsqlDbType.Array | NpgsqlDbType.Text)
            {
                Value = (object?)edit.EventTypes?.Distinct().ToArray() ?? DBNull.Value,
            });
            update.Parameters.Add(new NpgsqlParameter("enabled", NpgsqlDbType.Boolean) { Value = (object?)edit.Enabled ?? DBNull.Value });
            update.Parameters.AddWithValue("enabling", enabling);
            update.Parameters.AddWithValue("now", now);
            var updated = (await ReadSingleAsync(update, cancellationToken))!;
            if (enabling)
            {
                // The events kept pending while it was disabled go out now, each with the rest of its schedule.
                await using var due = new NpgsqlCommand(
                    "update webhook_deliveries set next_attempt_at = @now where endpoint_id = @id and state = 'pending'", connection, transaction);
                due.Parameters.AddWithValue("id", edit.Id);
                due.Parameters.AddWithValue("now", now);
                await due.ExecuteNonQueryAsync(cancellationToken);
            }
            return updated;
        }, cancellationToken);

    /// <summary>Deletes an endpoint with its pending deliveries and its log.</summary>
    public Task<bool> DeleteAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await LoadManagedAsync(connection, transaction, id, "delete webhooks", cancellationToken);
            await using var delete = new NpgsqlCommand("delete from webhook_endpoints where id = @id", connection, transaction);
            delete.Parameters.AddWithValue("id", id);
            return await delete.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    /// <summary>Makes <paramref name="secret"/> the signing secret; the current one keeps signing until <paramref name="previousUntil"/>.</summary>
    public Task<WebhookEndpoint> RotateSecretAsync(Guid userId, Guid id, string secret, DateTimeOffset previousUntil, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await LoadManagedAsync(connection, transaction, id, "rotate webhook secrets", cancellationToken);
            await using var rotate = new NpgsqlCommand($"""
                update webhook_endpoints set previous_secret_encrypted = secret_encrypted, previous_secret_until = @until,
                    secret_encrypted = @secret, version = version + 1
                where id = @id
                returning {Columns}
                """, connection, transaction);
            rotate.Parameters.AddWithValue("id", id);
            rotate.Parameters.AddWithValue("secret", protector.Protect(secret));
            rotate.Parameters.AddWithValue("until", previousUntil);
            return (await ReadSingleAsync(rotate, cancellationToken))!;
        }, cancellationToken);

    /// <summary>The endpoint's delivery attempts, newest first.</summary>
    public Task<Page<WebhookDeliveryAttempt>> ListAttemptsAsync(Guid userId, Guid endpointId, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await LoadManagedAsync(connection, transaction, endpointId, "read webhook deliveries", cancellationToken);
            await using var query = new NpgsqlCommand("""
                select d.event_id, d.event_type, a.attempt, a.http_status, a.error, a.at, a.duration_ms
                from webhook_delivery_attempts a join webhook_deliveries d on d.id = a.delivery_id
                where a.endpoint_id = @endpoint
                order by a.id desc limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.AddWithValue("endpoint", endpointId);
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            return await Page<WebhookDeliveryAttempt>.ReadAsync(query, pageSize, reader => new WebhookDeliveryAttempt
            {
                EventId = reader.GetString(0),
                EventType = reader.GetString(1),
                Attempt = reader.GetInt32(2),
                HttpStatus = reader.IsDBNull(3) ? 0 : reader.GetInt32(3),
                Error = reader.IsDBNull(4) ? "" : reader.GetString(4),
                Time = ToTimestamp(reader.GetDateTime(5)),
                DurationMs = reader.GetInt32(6),
            }, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Queues one event again for the endpoint, due now, with a new retry schedule; it keeps its webhook-id and body.
    /// NOT_FOUND when the endpoint never had that event, FAILED_PRECONDITION when the endpoint is disabled.
    /// </summary>
    public Task RedeliverAsync(Guid userId, Guid endpointId, string eventId, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var endpoint = await LoadManagedAsync(connection, transaction, endpointId, "redeliver webhooks", cancellationToken);
            if (!endpoint.Enabled)
            {
                throw new FailedPreconditionException("The webhook endpoint is disabled: enable it (UpdateWebhookEndpoint) before redelivering.");
            }
            await using var redeliver = new NpgsqlCommand("""
                update webhook_deliveries set state = 'pending', next_attempt_at = @now, schedule_start = attempts, delivered_at = null
                where endpoint_id = @endpoint and event_id = @event
                """, connection, transaction);
            redeliver.Parameters.AddWithValue("endpoint", endpointId);
            redeliver.Parameters.AddWithValue("event", eventId);
            redeliver.Parameters.AddWithValue("now", now);
            return await redeliver.ExecuteNonQueryAsync(cancellationToken) == 1 ? true : throw new NotFoundException("webhook event", eventId);
        }, cancellationToken);

    /// <summary>The endpoint, once the caller may <paramref name="action"/> in its workspace; NOT_FOUND when they cannot see it.</summary>
    private static async Task<WebhookEndpoint> LoadManagedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string action,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"select {Columns} from webhook_endpoints where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        var endpoint = await ReadSingleAsync(query, cancellationToken) ?? throw new NotFoundException("webhook endpoint", id.ToString());
        var role = await WorkspaceAccess.RoleInAsync(connection, transaction, Guid.Parse(endpoint.WorkspaceId), cancellationToken);
        role.Require(WorkspaceRoles.ManageWebhooks, action);
        return endpoint;
    }

    private static async Task<WebhookEndpoint?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static WebhookEndpoint Read(NpgsqlDataReader reader)
    {
        var endpoint = new WebhookEndpoint
        {
            Id = reader.GetGuid(0).ToString(),
            WorkspaceId = reader.GetGuid(1).ToString(),
            Url = reader.GetString(2),
            Description = reader.GetString(3),
            EventTypes = { reader.GetFieldValue<string[]>(4) },
            Enabled = reader.GetBoolean(5),
            DisabledReason = reader.IsDBNull(6) ? "" : reader.GetString(6),
            ConsecutiveFailures = reader.GetInt32(8),
            CreatedBy = reader.GetGuid(10).ToString(),
            CreateTime = ToTimestamp(reader.GetDateTime(11)),
            UpdateTime = ToTimestamp(reader.GetDateTime(12)),
        };
        if (!reader.IsDBNull(7))
        {
            endpoint.DisableTime = ToTimestamp(reader.GetDateTime(7));
        }
        if (!reader.IsDBNull(9))
        {
            endpoint.PreviousSecretExpireTime = ToTimestamp(reader.GetDateTime(9));
        }
        return endpoint;
    }

    private static Timestamp ToTimestamp(DateTime value) => Timestamp.FromDateTime(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
