using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>A live channel's token that expires before some time, decrypted for the publisher that refreshes it.</summary>
public sealed record ExpiringChannelToken(Guid ChannelId, Platform Platform, string AccountId, string AccessToken, DateTimeOffset ExpiresAt,
    bool MarkedExpiring);

/// <summary>
/// Channel tokens over their lifetime, for PublisherService's token refresher (owner pool: the refresher works for
/// every user). A refreshed token replaces, and an expiring mark applies to, only the token that was judged: a
/// reconnect meanwhile (a new token) wins.
/// </summary>
public sealed class ChannelTokenStore(PostsDatabase database, AccessTokenProtector protector)
{
    /// <summary>Live channels whose token expires before <paramref name="expireBefore"/>, by id after <paramref name="afterId"/>.</summary>
    public async Task<List<ExpiringChannelToken>> ListExpiringAsync(DateTimeOffset expireBefore, Guid afterId, int limit,
        CancellationToken cancellationToken)
    {
        await using var query = database.Owner.CreateCommand("""
            select id, platform, account_id, access_token_encrypted, token_expires_at, token_expiring_reason is not null
            from channels
            where deleted_at is null and token_expires_at < @before and id > @after
            order by id limit @limit
            """);
        query.Parameters.AddWithValue("before", expireBefore);
        query.Parameters.AddWithValue("after", afterId);
        query.Parameters.AddWithValue("limit", limit);
        var tokens = new List<ExpiringChannelToken>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            tokens.Add(new ExpiringChannelToken(reader.GetGuid(0), Vocabulary.ToPlatform(reader.GetString(1)), reader.GetString(2),
                protector.Unprotect((byte[])reader[3]), reader.GetFieldValue<DateTimeOffset>(4), reader.GetBoolean(5)));
        }
        return tokens;
    }

    /// <summary>Replaces <paramref name="previousToken"/> with a refreshed one and clears the expiring mark; false when the channel holds another token or is gone.</summary>
    public Task<bool> SaveRefreshedAsync(Guid channelId, string previousToken, string accessToken, DateTimeOffset expiresAt,
        CancellationToken cancellationToken) =>
        UpdateIfHoldsAsync(channelId, previousToken, """
            update channels set access_token_encrypted = @token, token_expires_at = @expires, token_expiring_reason = null
            where id = @id
            """, command =>
        {
            command.Parameters.AddWithValue("token", protector.Protect(accessToken));
            command.Parameters.AddWithValue("expires", expiresAt);
        }, cancellationToken);

    /// <summary>Marks the channel expiring with <paramref name="reason"/>; false when the channel holds another token or is gone.</summary>
    public Task<bool> MarkExpiringAsync(Guid channelId, string accessToken, string reason, CancellationToken cancellationToken) =>
        UpdateIfHoldsAsync(channelId, accessToken, """
            update channels set token_expiring_reason = @reason
            where id = @id and token_expiring_reason is distinct from @reason
            """, command => command.Parameters.Add(new NpgsqlParameter("reason", NpgsqlDbType.Text) { Value = reason }), cancellationToken);

    /// <summary>Runs <paramref name="update"/> on the channel only while it still holds <paramref name="accessToken"/> (locked meanwhile).</summary>
    private async Task<bool> UpdateIfHoldsAsync(Guid channelId, string accessToken, string update, Action<NpgsqlCommand> parameters,
        CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var current = new NpgsqlCommand(
            "select access_token_encrypted from channels where id = @id and deleted_at is null for update", connection, transaction))
        {
            current.Parameters.AddWithValue("id", channelId);
            // The stored token is encrypted with a fresh nonce each time, so it is compared decrypted.
            if (await current.ExecuteScalarAsync(cancellationToken) is not byte[] stored || protector.Unprotect(stored) != accessToken)
            {
                return false;
            }
        }
        await using (var command = new NpgsqlCommand(update, connection, transaction))
        {
            command.Parameters.AddWithValue("id", channelId);
            parameters(command);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
