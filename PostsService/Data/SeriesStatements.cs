using Npgsql;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// The next occurrence of a recurring post. A recurring post is a series of posts: each occurrence is its own row,
/// and the next one is queued in the same transaction that finishes the current one (<see cref="Recurrence"/>
/// evaluates the rule).
/// </summary>
public static class SeriesStatements
{
    private const string ReadSeries = """
        select rrule, time_zone, publish_at, coalesce(series_start, publish_at), channel_id
        from scheduled_posts where id = $1 and rrule is not null
        """;

    // Locked so that a concurrent DeleteChannel either waits for this occurrence (and cancels it) or wins first.
    private const string LockLiveChannel = "select 1 from channels where id = $1 and deleted_at is null for share";

    private const string InsertNext = """
        insert into scheduled_posts (user_id, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule,
                                     series_id, series_start)
        select user_id, channel_id, platform, content_json, $2, $2, time_zone, rrule,
               coalesce(series_id, id), coalesce(series_start, publish_at)
        from scheduled_posts where id = $1
        on conflict (series_id, publish_at) where series_id is not null do nothing
        """;

    /// <summary>
    /// Called when a post reaches a final outcome (in the outcome's transaction, on the owner connection): when it
    /// recurs, queues its next occurrence. Published, failed and unconfirmed all continue the series, so one bad
    /// occurrence never stops it; a cancelled or deleted post ends it. The unique (series_id, publish_at) index makes
    /// a repeat a no-op. Occurrences that fell in an outage are not back-filled: the next is after max(publish_at, now).
    /// </summary>
    public static async Task QueueNextOccurrenceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid postId, string status,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (status is not ("published" or "failed" or "unconfirmed"))
        {
            return;
        }

        string rule;
        string? timeZone;
        DateTimeOffset publishAt, anchor;
        Guid channelId;
        await using (var query = new NpgsqlCommand(ReadSeries, connection, transaction) { Parameters = { new NpgsqlParameter { Value = postId } } })
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return;
            }
            rule = reader.GetString(0);
            timeZone = reader.IsDBNull(1) ? null : reader.GetString(1);
            publishAt = reader.GetFieldValue<DateTimeOffset>(2);
            anchor = reader.GetFieldValue<DateTimeOffset>(3);
            channelId = reader.GetGuid(4);
        }

        if (Recurrence.NextOccurrence(rule, timeZone, anchor, publishAt > now ? publishAt : now) is not { } next)
        {
            return;
        }
        await using (var channel = new NpgsqlCommand(LockLiveChannel, connection, transaction) { Parameters = { new NpgsqlParameter { Value = channelId } } })
        {
            if (await channel.ExecuteScalarAsync(cancellationToken) is null)
            {
                return;
            }
        }
        await using var insert = new NpgsqlCommand(InsertNext, connection, transaction)
        {
            Parameters = { new NpgsqlParameter { Value = postId }, new NpgsqlParameter { Value = next } },
        };
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}
