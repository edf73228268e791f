using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// What happened to a post after it was sent, as its workspace's members read it (under row-level security): the
/// delivery of each WhatsApp message (delivery_statuses, readable since migration 0032) and the post's trace.
/// </summary>
public sealed class PostDeliveryStore(PostsDatabase database)
{
    /// <summary>The post's messages, newest attempt first; null when the caller cannot see the post.</summary>
    public Task<List<RecipientDelivery>?> ListAsync(Guid userId, Guid postId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<List<RecipientDelivery>?>(userId, async (connection, transaction) =>
        {
            if (await PostRows.ReadStatusAsync(connection, transaction, postId, cancellationToken) is null)
            {
                return null;
            }
            await using var query = new NpgsqlCommand("""
                select recipient_id, wamid, attempt, status, sent_at, delivered_at, read_at, failed_at, error_code, error_title
                from delivery_statuses where post_id = @id
                order by attempt desc, recipient_id, wamid
                """, connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            var deliveries = new List<RecipientDelivery>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                deliveries.Add(new RecipientDelivery
                {
                    RecipientId = reader.GetString(0),
                    Wamid = reader.GetString(1),
                    Attempt = reader.GetInt32(2),
                    State = DeliveryRules.FromDb(reader.GetString(3)),
                    SentTime = TimeAt(reader, 4),
                    DeliveredTime = TimeAt(reader, 5),
                    ReadTime = TimeAt(reader, 6),
                    FailedTime = TimeAt(reader, 7),
                    ErrorCode = reader.IsDBNull(8) ? 0 : reader.GetInt32(8),
                    ErrorTitle = reader.IsDBNull(9) ? "" : reader.GetString(9),
                });
            }
            return deliveries;
        }, cancellationToken);

    /// <summary>The post's traceparent ("" when none was recorded); null when the caller cannot see the post.</summary>
    public Task<string?> ReadTraceparentAsync(Guid userId, Guid postId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<string?>(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand("select coalesce(traceparent, '') from scheduled_posts where id = @id", connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            return (string?)await query.ExecuteScalarAsync(cancellationToken);
        }, cancellationToken);

    private static Timestamp? TimeAt(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Timestamp.FromDateTime(reader.GetDateTime(ordinal));
}
