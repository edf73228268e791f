using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>A published Instagram post whose next insights snapshot is due, with its channel's token for the fetcher.</summary>
public sealed record InsightsDuePostRow(Guid PostId, Guid ChannelId, string AccountId, string AccessToken, string MediaId, int Snapshot);

/// <summary>An Instagram channel whose online_followers are due.</summary>
public sealed record InsightsDueChannelRow(Guid ChannelId, string AccountId, string AccessToken);

/// <summary>One snapshot of a post's metrics as PublisherService reports it (no metrics and an error: skipped for good).</summary>
public sealed record SnapshotReport(Guid PostId, int Snapshot, DateTimeOffset? MediaPublishedAt, DateTimeOffset MeasuredAt,
    IReadOnlyDictionary<string, long> Metrics, string? Error);

/// <summary>A post's latest value of each metric.</summary>
public sealed record MetricValue(string Name, long Value, DateTimeOffset MeasuredAt);

/// <summary>
/// Engagement after publishing (docs/insights.md), as PublisherService's fetcher meets it: which Instagram posts and
/// channels to measure next, and the snapshots and online_followers it reports (owner pool: the fetcher works for
/// every workspace). Members read them through <see cref="EngagementStore"/>.
/// </summary>
public sealed class InsightsStore(PostsDatabase database, AccessTokenProtector protector, InsightsOptions options)
{
    private const string DirectMessageMode = "INSTAGRAM_MODE_DIRECT_MESSAGE";

    public async Task<(List<InsightsDuePostRow> Posts, List<InsightsDueChannelRow> Channels)> ListDueAsync(DateTimeOffset now, int limit,
        CancellationToken cancellationToken)
    {
        var ages = options.EffectiveSnapshotAges.ToArray();
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        var posts = new List<InsightsDuePostRow>();
        await using (var query = new NpgsqlCommand("""
            select p.id, p.channel_id, c.account_id, c.access_token_encrypted, p.platform_post_id, coalesce(i.snapshots_taken, 0) + 1
            from scheduled_posts p
            join channels c on c.id = p.channel_id
            left join post_insights i on i.post_id = p.id
            where p.status = 'published' and p.platform = 'instagram' and p.published_at >= @oldest
              and p.platform_post_id is not null
              and c.deleted_at is null and c.state = 'active'
              and c.settings->>'instagramMode' is distinct from @dm
              and i.error is null
              and coalesce(i.snapshots_taken, 0) < cardinality(@ages)
              and p.published_at + (@ages)[coalesce(i.snapshots_taken, 0) + 1] <= @now
            order by p.published_at
            limit @limit
            """, connection))
        {
            query.Parameters.AddWithValue("oldest", now - ages[^1] - options.LateSnapshotGrace);
            query.Parameters.AddWithValue("dm", DirectMessageMode);
            query.Parameters.AddWithValue("ages", ages);
            query.Parameters.AddWithValue("now", now);
            query.Parameters.AddWithValue("limit", limit);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                posts.Add(new InsightsDuePostRow(reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), protector.Unprotect((byte[])reader[3]),
                    reader.GetString(4), reader.GetInt32(5)));
            }
        }

        var channels = new List<InsightsDueChannelRow>();
        await using (var query = new NpgsqlCommand("""
            select c.id, c.account_id, c.access_token_encrypted
            from channels c left join channel_online_followers o on o.channel_id = c.id
            where c.platform = 'instagram' and c.deleted_at is null and c.state = 'active'
              and c.settings->>'instagramMode' is distinct from @dm
              and (o.measured_at is null or o.measured_at <= @due)
            order by o.measured_at nulls first, c.id
            limit @limit
            """, connection))
        {
            query.Parameters.AddWithValue("dm", DirectMessageMode);
            query.Parameters.AddWithValue("due", now - options.OnlineFollowersInterval);
            query.Parameters.AddWithValue("limit", limit);
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                channels.Add(new InsightsDueChannelRow(reader.GetGuid(0), reader.GetString(1), protector.Unprotect((byte[])reader[2])));
            }
        }
        return (posts, channels);
    }

    /// <summary>
    /// Stores the snapshots of known published posts; returns how many. Idempotent: a repeat writes the same values.
    /// A snapshot taken late counts for every age already passed when it was measured, so a lagging fetcher catches
    /// up with one fetch per post instead of one per missed age.
    /// </summary>
    public async Task<int> RecordSnapshotsAsync(IReadOnlyList<SnapshotReport> reports, CancellationToken cancellationToken)
    {
        var ages = options.EffectiveSnapshotAges.ToArray();
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var recorded = 0;
        foreach (var report in reports)
        {
            await using var progress = new NpgsqlCommand("""
                insert into post_insights (post_id, channel_id, workspace_id, snapshots_taken, media_published_at, error)
                select p.id, p.channel_id, p.workspace_id,
                       greatest(@snapshot, (select count(*)::int from unnest(@ages) a where p.published_at + a <= @measured)),
                       @media_published, @error
                from scheduled_posts p where p.id = @post and p.platform = 'instagram'
                on conflict (post_id) do update set
                    snapshots_taken = greatest(post_insights.snapshots_taken, excluded.snapshots_taken),
                    media_published_at = coalesce(excluded.media_published_at, post_insights.media_published_at),
                    error = coalesce(excluded.error, post_insights.error),
                    updated_at = now()
                returning workspace_id
                """, connection, transaction);
            progress.Parameters.AddWithValue("post", report.PostId);
            progress.Parameters.AddWithValue("snapshot", report.Snapshot);
            progress.Parameters.AddWithValue("ages", ages);
            progress.Parameters.AddWithValue("measured", report.MeasuredAt);
            progress.Parameters.Add(new NpgsqlParameter("media_published", NpgsqlDbType.TimestampTz) { Value = (object?)report.MediaPublishedAt ?? DBNull.Value });
            progress.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)report.Error ?? DBNull.Value });
            if (await progress.ExecuteScalarAsync(cancellationToken) is not Guid workspaceId)
            {
                continue;
            }
            recorded++;
            if (report.Metrics.Count == 0)
            {
                continue;
            }
            await using var values = new NpgsqlCommand("""
                insert into engagement_snapshots (post_id, workspace_id, snapshot, metric, value, measured_at)
                select @post, @workspace, @snapshot, m.metric, m.value, @measured from unnest(@metrics, @values) as m(metric, value)
                on conflict (post_id, snapshot, metric) do update set value = excluded.value, measured_at = excluded.measured_at
                """, connection, transaction);
            values.Parameters.AddWithValue("post", report.PostId);
            values.Parameters.AddWithValue("workspace", workspaceId);
            values.Parameters.AddWithValue("snapshot", report.Snapshot);
            values.Parameters.AddWithValue("measured", report.MeasuredAt);
            values.Parameters.AddWithValue("metrics", report.Metrics.Keys.ToArray());
            values.Parameters.AddWithValue("values", report.Metrics.Values.ToArray());
            await values.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return recorded;
    }

    /// <summary>Keeps the channel's latest online_followers; false for an unknown channel.</summary>
    public async Task<bool> RecordOnlineFollowersAsync(Guid channelId, DateTimeOffset measuredAt, long[] byUtcHour, CancellationToken cancellationToken)
    {
        await using var command = database.Owner.CreateCommand("""
            insert into channel_online_followers (channel_id, workspace_id, by_utc_hour, measured_at)
            select id, workspace_id, @hours, @measured from channels where id = @channel
            on conflict (channel_id) do update set by_utc_hour = excluded.by_utc_hour, measured_at = excluded.measured_at
                where channel_online_followers.measured_at <= excluded.measured_at
            """);
        command.Parameters.AddWithValue("channel", channelId);
        command.Parameters.AddWithValue("hours", byUtcHour);
        command.Parameters.AddWithValue("measured", measuredAt);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
