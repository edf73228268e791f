using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class ChannelGrpcService(PostsDatabase database, AccessTokenProtector protector, TimeProvider time) : ChannelService.ChannelServiceBase
{
    public override async Task<Channel> CreateChannel(CreateChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        if (request.Platform == Platform.Unspecified || !System.Enum.IsDefined(request.Platform))
        {
            violations.Add("platform", "must be whatsapp or instagram");
        }
        if (string.IsNullOrWhiteSpace(request.AccountId) || request.AccountId.Length > 128)
        {
            violations.Add("account_id", "is required (at most 128 characters)");
        }
        if (string.IsNullOrWhiteSpace(request.AccessToken) || request.AccessToken.Length > 4096)
        {
            violations.Add("access_token", "is required (at most 4096 characters)");
        }
        if (request.DisplayName.Length > 200)
        {
            violations.Add("display_name", "must be at most 200 characters");
        }
        ChannelSettingsRules.Check(request.Platform, request.Settings, "settings", violations);
        violations.ThrowIfAny();

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var insert = new NpgsqlCommand($"""
                insert into channels (user_id, platform, account_id, display_name, access_token_encrypted, settings)
                values (@user, @platform, @account, @name, @token, @settings::jsonb)
                returning {ChannelRows.Columns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("user", userId);
            insert.Parameters.AddWithValue("platform", request.Platform.ToDb());
            insert.Parameters.AddWithValue("account", request.AccountId);
            insert.Parameters.AddWithValue("name", request.DisplayName);
            insert.Parameters.AddWithValue("token", protector.Protect(request.AccessToken));
            insert.Parameters.AddWithValue("settings", ChannelRows.WriteSettings(request.Settings));
            await using var reader = await insert.ExecuteReaderAsync(context.CancellationToken);
            await reader.ReadAsync(context.CancellationToken);
            return ChannelRows.Read(reader);
        }, context.CancellationToken);
    }

    public override async Task<Channel> GetChannel(GetChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var id = RequestFields.RequireId(request.Id, "id");
        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
            await PostGrpcService.LoadChannelAsync(connection, transaction, id, context.CancellationToken)
                ?? throw new NotFoundException("channel", request.Id), context.CancellationToken);
    }

    public override async Task<ListChannelsResponse> ListChannels(ListChannelsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;
        if (pageSize is < 1 or > 100)
        {
            violations.Add("page_size", "must be between 1 and 100");
        }
        if (request.PlatformFilter != Platform.Unspecified && !System.Enum.IsDefined(request.PlatformFilter))
        {
            violations.Add("platform_filter", "is not a known platform");
        }
        var offset = 0;
        if (!string.IsNullOrEmpty(request.PageToken))
        {
            offset = PageTokens.Decode(request.PageToken) ?? -1;
            if (offset < 0)
            {
                violations.Add("page_token", "is not a token this API issued");
            }
        }
        violations.ThrowIfAny();

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand($"""
                select {ChannelRows.Columns} from channels
                where deleted_at is null and (@platform = '' or platform = @platform)
                order by created_at, id limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.AddWithValue("platform", request.PlatformFilter == Platform.Unspecified ? "" : request.PlatformFilter.ToDb());
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            var response = new ListChannelsResponse();
            await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
            while (await reader.ReadAsync(context.CancellationToken))
            {
                if (response.Channels.Count == pageSize)
                {
                    response.NextPageToken = PageTokens.Encode(offset + pageSize);
                    break;
                }
                response.Channels.Add(ChannelRows.Read(reader));
            }
            return response;
        }, context.CancellationToken);
    }

    private static readonly string[] UpdatableChannelFields = ["display_name", "settings", "access_token", "paused"];

    /// <summary>
    /// Renames, changes settings, rotates the token, pauses or resumes. Resuming, or rotating the token of a
    /// needs_reconnect channel, makes it active again. Guarded by the version read (ABORTED when stale).
    /// </summary>
    public override async Task<Channel> UpdateChannel(UpdateChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        var etag = RequestFields.ParseEtag(request.Etag, "etag", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, UpdatableChannelFields, field => field switch
        {
            "display_name" => request.DisplayName.Length > 0,
            "settings" => request.Settings is not null,
            "access_token" => request.AccessToken.Length > 0,
            "paused" => request.HasPaused,
            _ => false,
        }, violations);
        if (request.DisplayName.Length > 200)
        {
            violations.Add("display_name", "must be at most 200 characters");
        }
        if (paths.Contains("access_token") && (string.IsNullOrWhiteSpace(request.AccessToken) || request.AccessToken.Length > 4096))
        {
            violations.Add("access_token", "is required to rotate the token (at most 4096 characters)");
        }
        violations.ThrowIfAny();

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            ChannelState state;
            int version;
            Platform platform;
            ChannelSettings settings;
            string displayName;
            string? reason;
            await using (var query = new NpgsqlCommand(
                "select platform, state, version, settings::text, display_name, state_reason from channels where id = @id and deleted_at is null",
                connection, transaction))
            {
                query.Parameters.AddWithValue("id", id!.Value);
                await using var reader = await query.ExecuteReaderAsync(context.CancellationToken);
                if (!await reader.ReadAsync(context.CancellationToken))
                {
                    throw new NotFoundException("channel", request.Id);
                }
                platform = Vocabulary.ToPlatform(reader.GetString(0));
                state = Vocabulary.ToChannelState(reader.GetString(1));
                version = reader.GetInt32(2);
                settings = ChannelRows.ReadSettings(reader.GetString(3));
                displayName = reader.GetString(4);
                reason = reader.IsDBNull(5) ? null : reader.GetString(5);
            }
            if (etag is { } expected && expected != version)
            {
                throw ConcurrentChangeException.StaleEtag("channel");
            }
            if (paths.Contains("settings"))
            {
                settings = request.Settings ?? new ChannelSettings();
                ChannelSettingsRules.Check(platform, settings, "settings", violations);
                violations.ThrowIfAny();
            }
            if (paths.Contains("display_name"))
            {
                displayName = request.DisplayName;
            }
            var rotate = paths.Contains("access_token");
            if (paths.Contains("paused") && request.Paused)
            {
                (state, reason) = (ChannelState.Paused, "Paused by the user.");
            }
            else if ((paths.Contains("paused") && !request.Paused) || (rotate && state == ChannelState.NeedsReconnect))
            {
                (state, reason) = (ChannelState.Active, null);
            }

            await using var update = new NpgsqlCommand($"""
                update channels set display_name = @name, settings = @settings::jsonb, state = @state, state_reason = @reason,
                    access_token_encrypted = coalesce(@token, access_token_encrypted)
                where id = @id and version = @version and deleted_at is null
                returning {ChannelRows.Columns}
                """, connection, transaction);
            update.Parameters.AddWithValue("name", displayName);
            update.Parameters.AddWithValue("settings", ChannelRows.WriteSettings(settings));
            update.Parameters.AddWithValue("state", state switch
            {
                ChannelState.Paused => "paused",
                ChannelState.NeedsReconnect => "needs_reconnect",
                _ => "active",
            });
            update.Parameters.Add(new NpgsqlParameter("reason", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)reason ?? DBNull.Value });
            update.Parameters.Add(new NpgsqlParameter("token", NpgsqlTypes.NpgsqlDbType.Bytea)
            {
                Value = rotate ? protector.Protect(request.AccessToken) : DBNull.Value,
            });
            update.Parameters.AddWithValue("id", id!.Value);
            update.Parameters.AddWithValue("version", version);
            await using var reader2 = await update.ExecuteReaderAsync(context.CancellationToken);
            return await reader2.ReadAsync(context.CancellationToken)
                ? ChannelRows.Read(reader2)
                : throw ConcurrentChangeException.StaleEtag("channel");
        }, context.CancellationToken);
    }

    /// <summary>
    /// Deletes a channel: refused (FAILED_PRECONDITION) while any of its posts is publishing. Its queued posts are
    /// cancelled, its access token is erased, and the row stays (hidden from the API) so its posts' history and runs
    /// remain readable. Failed, missed and unconfirmed posts stay as they are and can no longer be queued again.
    /// </summary>
    public override async Task<Empty> DeleteChannel(DeleteChannelRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);

        return await database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // Locks the channel first: a create or re-queue on it (which lock it for share) waits, then sees it gone.
            await using (var delete = new NpgsqlCommand("""
                update channels set deleted_at = @now, access_token_encrypted = ''::bytea, state_reason = 'Deleted by the user.'
                where id = @id and deleted_at is null and (@etag::int is null or version = @etag)
                """, connection, transaction))
            {
                delete.Parameters.AddWithValue("now", time.GetUtcNow());
                delete.Parameters.AddWithValue("id", id);
                delete.Parameters.Add(new NpgsqlParameter("etag", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)etag ?? DBNull.Value });
                if (await delete.ExecuteNonQueryAsync(context.CancellationToken) == 0)
                {
                    throw await PostGrpcService.LoadChannelAsync(connection, transaction, id, context.CancellationToken) is null
                        ? new NotFoundException("channel", request.Id)
                        : (DomainException)ConcurrentChangeException.StaleEtag("channel");
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
                await cancel.ExecuteNonQueryAsync(context.CancellationToken);
            }

            await using (var publishing = new NpgsqlCommand(
                "select count(*) from scheduled_posts where channel_id = @id and status = 'publishing'", connection, transaction))
            {
                publishing.Parameters.AddWithValue("id", id);
                var count = (long)(await publishing.ExecuteScalarAsync(context.CancellationToken))!;
                if (count > 0)
                {
                    // Throwing rolls the whole transaction back: nothing was cancelled or deleted.
                    throw new FailedPreconditionException($"{count} of the channel's posts are being published; delete it once they finish.");
                }
            }
            return new Empty();
        }, context.CancellationToken);
    }
}
