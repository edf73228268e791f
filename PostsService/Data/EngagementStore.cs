using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Engagement as members read it (docs/insights.md): what a channel's publish-time suggestions are made of, a post's
/// latest metrics, and engagement per platform over a range. Every call runs as the caller, under row-level security.
/// </summary>
public sealed class EngagementStore(PostsDatabase database, InsightsOptions options)
{
    /// <summary>
    /// What the channel's suggestions are made of, as the caller sees it; null when the channel is not visible. The zone:
    /// <paramref name="zone"/>, else the channel's posting schedule's, else UTC.
    /// </summary>
    public Task<SuggestionInputs?> LoadSuggestionInputsAsync(Guid userId, Guid channelId, TimeZoneInfo? zone, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            string platform;
            await using (var channel = new NpgsqlCommand("select platform from channels where id = @id and deleted_at is null", connection, transaction))
            {
                channel.Parameters.AddWithValue("id", channelId);
                if (await channel.ExecuteScalarAsync(cancellationToken) is not string word)
                {
                    return null;
                }
                platform = word;
            }

            PostingSlots? schedule = null;
            await using (var query = new NpgsqlCommand("select time_zone, slots from posting_schedules where channel_id = @id", connection, transaction))
            {
                query.Parameters.AddWithValue("id", channelId);
                await using var reader = await query.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken) && TimeZoneInfo.TryFindSystemTimeZoneById(reader.GetString(0), out var scheduleZone))
                {
                    schedule = new PostingSlots(scheduleZone, reader.GetFieldValue<string[]>(1).Select(WeeklySlot.FromDb).ToList());
                }
            }
            var effectiveZone = zone ?? schedule?.Zone ?? TimeZoneInfo.Utc;

            var history = new List<EngagementSample>();
            await using (var query = new NpgsqlCommand(Vocabulary.ToPlatform(platform) == Platform.Instagram ? InstagramRates : WhatsAppReadRates,
                connection, transaction))
            {
                query.Parameters.AddWithValue("channel", channelId);
                query.Parameters.AddWithValue("since", now - options.HistoryWindow);
                await using var reader = await query.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    history.Add(new EngagementSample(reader.GetFieldValue<DateTimeOffset>(0), reader.GetDouble(1)));
                }
            }

            var scheduled = new List<DateTimeOffset>();
            await using (var query = new NpgsqlCommand("""
                select publish_at from scheduled_posts
                where channel_id = @channel and status not in ('cancelled', 'failed', 'missed') and publish_at > @now and publish_at < @until
                """, connection, transaction))
            {
                query.Parameters.AddWithValue("channel", channelId);
                query.Parameters.AddWithValue("now", now);
                query.Parameters.AddWithValue("until", now.AddDays(8));
                await using var reader = await query.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    scheduled.Add(reader.GetFieldValue<DateTimeOffset>(0));
                }
            }

            long[]? online = null;
            await using (var query = new NpgsqlCommand("select by_utc_hour from channel_online_followers where channel_id = @channel", connection, transaction))
            {
                query.Parameters.AddWithValue("channel", channelId);
                online = await query.ExecuteScalarAsync(cancellationToken) as long[];
            }
            return new SuggestionInputs(effectiveZone, history, scheduled, online, schedule);
        }, cancellationToken);

    /// <summary>Each measured Instagram post: when Meta says it went out, and total_interactions / reach of its latest snapshot.</summary>
    private const string InstagramRates = """
        select i.media_published_at, ti.value::float8 / r.value
        from post_insights i
        cross join lateral (select max(snapshot) as snapshot from engagement_snapshots s where s.post_id = i.post_id) latest
        join engagement_snapshots r on r.post_id = i.post_id and r.snapshot = latest.snapshot and r.metric = 'reach'
        join engagement_snapshots ti on ti.post_id = i.post_id and ti.snapshot = latest.snapshot and ti.metric = 'total_interactions'
        where i.channel_id = @channel and i.media_published_at >= @since and r.value > 0
        """;

    /// <summary>Each published WhatsApp post with delivery statuses: when it went out, and the share of its messages read.</summary>
    private const string WhatsAppReadRates = """
        select p.published_at, count(d.read_at)::float8 / count(*)
        from scheduled_posts p join delivery_statuses d on d.post_id = p.id
        where p.channel_id = @channel and p.status = 'published' and p.published_at >= @since
        group by p.id, p.published_at
        """;

    /// <summary>The post's latest value of each metric, as the caller sees it; null when the post is not visible.</summary>
    public Task<(Platform Platform, List<MetricValue> Metrics)?> GetPostEngagementAsync(Guid userId, Guid postId, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<(Platform, List<MetricValue>)?>(userId, async (connection, transaction) =>
        {
            await using var post = new NpgsqlCommand("select platform from scheduled_posts where id = @id", connection, transaction);
            post.Parameters.AddWithValue("id", postId);
            if (await post.ExecuteScalarAsync(cancellationToken) is not string word)
            {
                return null;
            }
            var platform = Vocabulary.ToPlatform(word);
            await using var query = new NpgsqlCommand(platform == Platform.Instagram
                ? """
                  select distinct on (metric) metric, value, measured_at from engagement_snapshots
                  where post_id = @id order by metric, snapshot desc
                  """
                : $"""
                  with posts as (select @id as id)
                  select m.metric, m.value, m.measured_at from ({WhatsAppCounts}) d
                  cross join lateral (values ('messages', d.messages, d.measured_at), ('delivered', d.delivered, d.measured_at),
                                             ('read', d.read, d.measured_at), ('failed', d.failed, d.measured_at)) as m(metric, value, measured_at)
                  """, connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            var metrics = new List<MetricValue>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                metrics.Add(new MetricValue(reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
            return (platform, metrics);
        }, cancellationToken);

    /// <summary>WhatsApp messages of the posts of the query's <c>posts</c> and how many were delivered (a read one was), read and failed, per post.</summary>
    private const string WhatsAppCounts = """
        select post_id, count(*) as messages, count(*) filter (where delivered_at is not null or read_at is not null) as delivered,
               count(read_at) as read, count(failed_at) as failed,
               greatest(max(sent_at), max(delivered_at), max(read_at), max(failed_at)) as measured_at
        from delivery_statuses where post_id in (select id from posts) group by post_id
        """;

    /// <summary>
    /// Engagement of the posts published in [<paramref name="start"/>, <paramref name="end"/>) that the caller sees (of one
    /// workspace or channel, if named), per platform.
    /// </summary>
    public Task<List<PlatformEngagement>> StatisticsAsync(Guid userId, Guid? workspaceId, Guid? channelId, DateTimeOffset start, DateTimeOffset end,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No membership filter here: row-level security limits the posts and their measurements to the caller's workspaces.
            await using var query = new NpgsqlCommand($"""
                with posts as (
                    select id, platform from scheduled_posts
                    where status = 'published' and published_at >= @start and published_at < @end
                      and (@workspace::uuid is null or workspace_id = @workspace) and (@channel::uuid is null or channel_id = @channel)),
                instagram as (
                    select s.post_id, sum(s.value) filter (where s.metric = 'reach') as reach,
                           sum(s.value) filter (where s.metric = 'total_interactions') as interactions
                    from engagement_snapshots s join posts p on p.id = s.post_id
                    where s.snapshot = (select max(x.snapshot) from engagement_snapshots x where x.post_id = s.post_id)
                    group by s.post_id),
                whatsapp as ({WhatsAppCounts})
                select p.platform, count(*), count(i.post_id) + count(w.post_id),
                       coalesce(sum(i.reach), 0)::bigint, coalesce(sum(i.interactions), 0)::bigint,
                       coalesce(sum(w.messages), 0)::bigint, coalesce(sum(w.delivered), 0)::bigint,
                       coalesce(sum(w.read), 0)::bigint, coalesce(sum(w.failed), 0)::bigint
                from posts p left join instagram i on i.post_id = p.id left join whatsapp w on w.post_id = p.id
                group by p.platform order by p.platform
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value });
            query.Parameters.Add(new NpgsqlParameter("channel", NpgsqlDbType.Uuid) { Value = (object?)channelId ?? DBNull.Value });
            query.Parameters.AddWithValue("start", start);
            query.Parameters.AddWithValue("end", end);
            var platforms = new List<PlatformEngagement>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var platform = new PlatformEngagement
                {
                    Platform = Vocabulary.ToPlatform(reader.GetString(0)),
                    PostsPublished = reader.GetInt64(1),
                    PostsMeasured = reader.GetInt64(2),
                    Reach = reader.GetInt64(3),
                    TotalInteractions = reader.GetInt64(4),
                    Messages = reader.GetInt64(5),
                    Delivered = reader.GetInt64(6),
                    Read = reader.GetInt64(7),
                    Failed = reader.GetInt64(8),
                };
                platform.EngagementRate = platform.Platform == Platform.Instagram
                    ? (platform.Reach > 0 ? (double)platform.TotalInteractions / platform.Reach : 0)
                    : (platform.Messages > 0 ? (double)platform.Read / platform.Messages : 0);
                platforms.Add(platform);
            }
            return platforms;
        }, cancellationToken);
}
