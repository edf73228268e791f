using Npgsql;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// A recurring post is a series of posts: each occurrence is its own row, and the next one is created (queued) in
/// the transaction that finishes the current one, on the owner connection. The rule itself is evaluated by
/// <see cref="Recurrence"/>.
/// </summary>
public static class SeriesStatements
{
    /// <summary>
    /// Queues the next occurrence of <paramref name="postId"/>, which just finished, when its rule has one. Published,
    /// failed and unconfirmed all continue the series, so one bad occurrence never stops it; a cancelled or deleted
    /// post ends it. A missed occurrence (overdue beyond the misfire window, <see cref="ClaimStore"/>) continues it
    /// too. The unique (series_id, publish_at) index makes a repeat a no-op. Occurrences that fell in an
    /// outage are not back-filled: the next is after max(publish_at, now).
    /// </summary>
    public static async Task ScheduleNextAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid postId, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        string rule;
        string? timeZone;
        DateTimeOffset publishAt, anchor;
        Guid channelId;
        await using (var query = new NpgsqlCommand("""
            select rrule, time_zone, publish_at, coalesce(series_start, publish_at), channel_id
            from scheduled_posts where id = @id and rrule is not null
            """, connection, transaction))
        {
            query.Parameters.AddWithValue("id", postId);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
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

        // Locked so that a concurrent DeleteChannel either waits for this occurrence (and cancels it) or wins first.
        await using (var channel = new NpgsqlCommand(
            "select 1 from channels where id = @id and deleted_at is null for share", connection, transaction))
        {
            channel.Parameters.AddWithValue("id", channelId);
            if (await channel.ExecuteScalarAsync(cancellationToken) is null)
            {
                return;
            }
        }

        await using var insert = new NpgsqlCommand("""
            insert into scheduled_posts (user_id, workspace_id, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule,
                                         series_id, series_start, recipients, needs_approval, submitted_by, approved_by, approved_hash)
            -- An approved series stays approved: its approval is bound to the series' anchor, which the next
            -- occurrence keeps (series_start), so the hash still matches; later edits of it need a new approval.
            select user_id, workspace_id, channel_id, platform, content_json, @next, @next, time_zone, rrule,
                   coalesce(series_id, id), coalesce(series_start, publish_at), recipients, needs_approval, submitted_by, approved_by, approved_hash
            from scheduled_posts where id = @id
            on conflict (series_id, publish_at) where series_id is not null do nothing
            """, connection, transaction);
        insert.Parameters.AddWithValue("id", postId);
        insert.Parameters.AddWithValue("next", next);
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}
