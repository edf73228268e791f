using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>
/// A post's history as its workspace's members read it (under row-level security): its creation, from the post row,
/// then every change the database recorded (record_post_events, migrations 0017 and 0042).
/// </summary>
public sealed class PostEventStore(PostsDatabase database)
{
    /// <summary>The post's events, oldest first, from <paramref name="offset"/>; null when the caller cannot see the post.</summary>
    public Task<Page<PostEvent>?> ListAsync(Guid userId, Guid postId, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<Page<PostEvent>?>(userId, async (connection, transaction) =>
        {
            await using var query = new NpgsqlCommand("""
                select id, created_at, user_id, 'created', null::text, null::text[], null::text, 0::bigint
                from scheduled_posts where id = @id
                union all
                select e.post_id, e.at, e.actor, e.kind, e.status, e.fields, e.comment, e.id
                from post_events e where e.post_id = @id and exists (select from scheduled_posts p where p.id = @id)
                order by 8, 2
                limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            var events = new List<PostEvent>(pageSize);
            var more = false;
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (events.Count == pageSize)
                    {
                        more = true;
                        break;
                    }
                    events.Add(new PostEvent
                    {
                        PostId = reader.GetGuid(0).ToString(),
                        Time = Timestamp.FromDateTime(reader.GetDateTime(1)),
                        ActorId = reader.IsDBNull(2) ? "" : reader.GetGuid(2).ToString(),
                        Kind = reader.GetString(3),
                        Status = reader.IsDBNull(4) ? PostStatus.Unspecified : Vocabulary.ToPostStatus(reader.GetString(4)),
                        Fields = { reader.IsDBNull(5) ? [] : reader.GetFieldValue<string[]>(5) },
                        Comment = reader.IsDBNull(6) ? "" : reader.GetString(6),
                    });
                }
            }
            if (offset == 0 && events.Count == 0)
            {
                return null;
            }
            return new Page<PostEvent>(events, 0, more);
        }, cancellationToken);
}
