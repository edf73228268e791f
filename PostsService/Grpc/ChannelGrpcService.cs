using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class ChannelGrpcService(PostsDatabase database, AccessTokenProtector protector) : ChannelService.ChannelServiceBase
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
                ?? throw Problems.NotFound("channel", request.Id), context.CancellationToken);
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
                where (@platform = '' or platform = @platform)
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
}
