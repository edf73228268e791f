using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>A channel to create: the account on its platform, and the access token to keep encrypted.</summary>
public sealed record NewChannel(Platform Platform, string AccountId, string DisplayName, string AccessToken, ChannelSettings? Settings)
{
    /// <summary>When the access token expires; null when it does not.</summary>
    public DateTimeOffset? TokenExpiresAt { get; init; }
}

/// <summary>A changed channel, and how many of its posts releasing it found overdue beyond the misfire window and missed.</summary>
public sealed record ChannelUpdate(Channel Channel, int MissedLatePosts);

/// <summary>
/// The channels of the caller's workspaces, as the public API reads and changes them, under row-level security
/// (another workspace's channel is absent: null, for the caller to answer NOT_FOUND); changes need the role
/// <see cref="WorkspaceRoles.ManageChannels"/>. Access tokens are encrypted here and never read back out.
/// </summary>
public sealed class ChannelStore(PostsDatabase database, AccessTokenProtector protector)
{
    /// <summary>
    /// Adds a channel to <paramref name="workspaceId"/>, or to the caller's personal workspace (made now if need be)
    /// when null; null when the caller is not a member of the workspace named.
    /// </summary>
    public Task<Channel?> CreateAsync(Guid userId, Guid? workspaceId, NewChannel channel, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<Channel?>(userId, async (connection, transaction) =>
        {
            if (await WorkspaceAccess.RequireTargetAsync(connection, transaction, userId, workspaceId, WorkspaceRoles.ManageChannels, "add channels", cancellationToken)
                is not { } workspace)
            {
                return null;
            }
            await using var insert = new NpgsqlCommand($"""
                insert into channels (user_id, workspace_id, platform, account_id, display_name, access_token_encrypted, settings, token_expires_at)
                values (@user, @workspace, @platform, @account, @name, @token, @settings::jsonb, @expires)
                returning {ChannelRows.Columns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("user", userId);
            insert.Parameters.AddWithValue("workspace", workspace);
            insert.Parameters.AddWithValue("platform", channel.Platform.ToDb());
            insert.Parameters.AddWithValue("account", channel.AccountId);
            insert.Parameters.AddWithValue("name", channel.DisplayName);
            insert.Parameters.AddWithValue("token", protector.Protect(channel.AccessToken));
            insert.Parameters.AddWithValue("settings", ChannelRows.WriteSettings(channel.Settings));
            insert.Parameters.Add(new NpgsqlParameter("expires", NpgsqlDbType.TimestampTz) { Value = (object?)channel.TokenExpiresAt ?? DBNull.Value });
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return ChannelRows.Read(reader);
        }, cancellationToken);

    public Task<Channel?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, (connection, transaction) =>
            ChannelRows.LoadLiveAsync(connection, transaction, id, cancellationToken), cancellationToken);

    /// <summary>
    /// The live channels of the caller's workspaces (or of one of them), oldest first (<see cref="Page{T}.Total"/> is
    /// not counted).
    /// </summary>
    public Task<Page<Channel>> ListAsync(Guid userId, Guid? workspaceId, Platform? platform, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No membership filter here: row-level security limits the rows to the caller's workspaces.
            await using var query = new NpgsqlCommand($"""
                select {ChannelRows.Columns} from channels
                where deleted_at is null and (@platform = '' or platform = @platform)
                  and (@workspace::uuid is null or workspace_id = @workspace)
                order by created_at, id limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.AddWithValue("platform", platform?.ToDb() ?? "");
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            var channels = new List<Channel>(pageSize);
            var more = false;
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (channels.Count == pageSize)
                {
                    more = true;
                    break;
                }
                channels.Add(ChannelRows.Read(reader));
            }
            return new Page<Channel>(channels, 0, more);
        }, cancellationToken);

    /// <summary>
    /// Applies <paramref name="edit"/>, guarded by the version it read (ABORTED when stale); null when there is no such
    /// channel. Pausing (or any change into a state that holds posts) takes the channel's queued posts out of the
    /// scheduler's index, and releasing puts them back, both through the outbox (migration 0010_channel_holds.sql);
    /// on release the posts overdue beyond <paramref name="misfireWindow"/> at <paramref name="now"/> are missed,
    /// or moved to now when the edit publishes late posts.
    /// </summary>
    public Task<ChannelUpdate?> UpdateAsync(Guid userId, ChannelEdit edit, DateTimeOffset now, TimeSpan misfireWindow,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<ChannelUpdate?>(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnChannelAsync(connection, transaction, edit.ChannelId, WorkspaceRoles.ManageChannels,
                    "change channels", cancellationToken)
                || await LoadEditableAsync(connection, transaction, edit.ChannelId, cancellationToken) is not { } current)
            {
                return null;
            }
            var changes = edit.Apply(current);
            await using var update = new NpgsqlCommand($"""
                update channels set display_name = @name, settings = @settings::jsonb, state = @state, state_reason = @reason,
                    access_token_encrypted = coalesce(@token, access_token_encrypted),
                    -- A new token (a reconnect) brings its own expiry and ends any warning about the old one.
                    token_expires_at = case when @token is null then token_expires_at else @expires end,
                    token_expiring_reason = case when @token is null then token_expiring_reason end
                where id = @id and version = @version and deleted_at is null
                returning {ChannelRows.Columns}
                """, connection, transaction);
            update.Parameters.AddWithValue("name", changes.DisplayName);
            update.Parameters.AddWithValue("settings", ChannelRows.WriteSettings(changes.Settings));
            update.Parameters.AddWithValue("state", ChannelRows.StateWord(changes.State));
            update.Parameters.Add(new NpgsqlParameter("reason", NpgsqlDbType.Text) { Value = (object?)changes.StateReason ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("token", NpgsqlDbType.Bytea)
            {
                Value = changes.RotateToken ? protector.Protect(edit.AccessToken) : DBNull.Value,
            });
            update.Parameters.Add(new NpgsqlParameter("expires", NpgsqlDbType.TimestampTz) { Value = (object?)changes.TokenExpiresAt ?? DBNull.Value });
            update.Parameters.AddWithValue("id", edit.ChannelId);
            update.Parameters.AddWithValue("version", current.Version);
            Channel channel;
            await using (var reader = await update.ExecuteReaderAsync(cancellationToken))
            {
                channel = await reader.ReadAsync(cancellationToken)
                    ? ChannelRows.Read(reader)
                    : throw ConcurrentChangeException.StaleEtag("channel");
            }
            var missed = changes.Released is { } released
                ? await SettleLatePostsAsync(connection, transaction, edit.ChannelId, released, now, misfireWindow, cancellationToken)
                : 0;
            return new ChannelUpdate(channel, missed);
        }, cancellationToken);

    /// <summary>
    /// The misfire policy for the posts a released channel held: those overdue beyond the window are missed with a
    /// reason that names the hold, or (publishing late posts) due now; the rest keep their due time and are claimed
    /// at once when it has passed; a missed occurrence of a series queues the next one. Returns how many were missed.
    /// </summary>
    private static async Task<int> SettleLatePostsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid channelId,
        ReleasedChannel released, DateTimeOffset now, TimeSpan misfireWindow, CancellationToken cancellationToken)
    {
        await using var settle = new NpgsqlCommand(released.PublishLatePosts
            ? "update scheduled_posts set due_at = @now where channel_id = @id and status = 'queued' and due_at < @oldest"
            : """
              update scheduled_posts
              set status = 'missed', lease_expires_at = null,
                  dispatch_late_ms = (extract(epoch from (@now - due_at)) * 1000)::bigint,
                  error_message = 'Missed: due ' || @hold || '; found ' || justify_hours(date_trunc('second', @now - due_at))::text
                      || ' overdue when it was released, beyond the misfire window of ' || @window_text || '; not published.'
              where channel_id = @id and status = 'queued' and due_at < @oldest
              returning id, rrule is not null
              """, connection, transaction);
        settle.Parameters.AddWithValue("id", channelId);
        settle.Parameters.AddWithValue("now", now);
        settle.Parameters.AddWithValue("oldest", now - misfireWindow);
        if (!released.PublishLatePosts)
        {
            settle.Parameters.AddWithValue("hold", released.HoldText);
            settle.Parameters.AddWithValue("window_text", DurationText.Describe(misfireWindow));
        }
        if (released.PublishLatePosts)
        {
            await settle.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }
        var missed = new List<(Guid Id, bool Recurring)>();
        await using (var reader = await settle.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                missed.Add((reader.GetGuid(0), reader.GetBoolean(1)));
            }
        }
        // A missed occurrence does not end its series: the next one is queued, as after a publish.
        foreach (var (postId, _) in missed.Where(m => m.Recurring))
        {
            await SeriesStatements.ScheduleNextAsync(connection, transaction, postId, now, cancellationToken);
        }
        return missed.Count;
    }

    /// <summary>
    /// Deletes a channel: refused while any of its posts is publishing. Its queued posts are cancelled, its access
    /// token is erased, and the row stays (hidden from the API) so its posts' history and runs remain readable.
    /// False when there is no such channel.
    /// </summary>
    public Task<bool> DeleteAsync(Guid userId, Guid id, int? etag, DateTimeOffset now, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (!await WorkspaceAccess.RequireOnChannelAsync(connection, transaction, id, WorkspaceRoles.ManageChannels, "delete channels", cancellationToken))
            {
                return false;
            }
            // Locks the channel first: a create or re-queue on it (which lock it for share) waits, then sees it gone.
            await using (var delete = new NpgsqlCommand("""
                update channels set deleted_at = @now, access_token_encrypted = ''::bytea, state_reason = 'Deleted by the user.'
                where id = @id and deleted_at is null and (@etag::int is null or version = @etag)
                """, connection, transaction))
            {
                delete.Parameters.AddWithValue("now", now);
                delete.Parameters.AddWithValue("id", id);
                delete.Parameters.Add(new NpgsqlParameter("etag", NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
                if (await delete.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    return await ChannelRows.LoadLiveAsync(connection, transaction, id, cancellationToken) is null
                        ? false
                        : throw ConcurrentChangeException.StaleEtag("channel");
                }
            }

            // Cancelled rows stay locked until commit, so no claim can take them meanwhile.
            await using (var cancel = new NpgsqlCommand("""
                update scheduled_posts set status = 'cancelled', lease_expires_at = null,
                    error_message = 'Cancelled: the channel was deleted.'
                where channel_id = @id and status = 'queued'
                """, connection, transaction))
            {
                cancel.Parameters.AddWithValue("id", id);
                await cancel.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var publishing = new NpgsqlCommand(
                "select count(*) from scheduled_posts where channel_id = @id and status = 'publishing'", connection, transaction);
            publishing.Parameters.AddWithValue("id", id);
            var count = (long)(await publishing.ExecuteScalarAsync(cancellationToken))!;
            // Throwing rolls the whole transaction back: nothing was cancelled or deleted.
            return count == 0
                ? true
                : throw new FailedPreconditionException($"{count} of the channel's posts are being published; delete it once they finish.");
        }, cancellationToken);

    private static async Task<EditableChannel?> LoadEditableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id,
        CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand(
            "select platform, state, version, settings::text, display_name, state_reason from channels where id = @id and deleted_at is null",
            connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new EditableChannel(Vocabulary.ToPlatform(reader.GetString(0)), Vocabulary.ToChannelState(reader.GetString(1)),
            reader.GetInt32(2), ChannelRows.ReadSettings(reader.GetString(3)), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5));
    }
}
