using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults;

namespace SocialSync.PostsService.Data;

/// <summary>
/// One platform's counts of a user's posts: by status, and among those finished in the last 24 h (published by
/// published_at, or failed / missed / unconfirmed by updated_at) how many were published or retried, with the sum
/// and number of their publish delays.
/// </summary>
public sealed record PlatformCounts(string Platform, long Total, long Queued, long Publishing, long Published, long Failed, long Cancelled,
    long Missed, long Unconfirmed, long Finished, long FinishedPublished, long FinishedRetried, double DelaySeconds, long Delays);

/// <summary>What only PostgreSQL knows about the whole service, sampled for the gauges (every user's posts).</summary>
/// <remarks>Everything here is read through an index range that stays small whatever the table's size; the queued
/// total, which grows with the queue, is counted apart (<see cref="StatisticsStore.CountQueuedAsync"/>).</remarks>
public sealed record PostsSnapshot(long DueNotDispatched, long Publishing, long OutboxPending, TimeSpan OutboxOldestAge);

/// <summary>Counts over posts: a user's monitoring figures (under row-level security), and the service's gauges.</summary>
public sealed class StatisticsStore(PostsDatabase database)
{
    /// <summary>The caller's counts per platform, with "finished" meaning since <paramref name="since"/>.</summary>
    public Task<List<PlatformCounts>> CountAsync(Guid userId, DateTimeOffset since, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // Row-level security limits the rows to the caller's; the workspaces named too let an index find them.
            await using var query = new NpgsqlCommand($"""
                with posts as (
                    select platform, status, retry_count,
                           {FinishedIn} as finished,
                           case when status = 'published' and published_at >= @since
                                then extract(epoch from published_at - publish_at) end as delay
                    from scheduled_posts where workspace_id in {WorkspaceAccess.CallerWorkspaces})
                select platform, count(*),
                       count(*) filter (where status = 'queued'),
                       count(*) filter (where status = 'publishing'),
                       count(*) filter (where status = 'published'),
                       count(*) filter (where status = 'failed'),
                       count(*) filter (where status = 'cancelled'),
                       count(*) filter (where status = 'missed'),
                       count(*) filter (where status = 'unconfirmed'),
                       count(*) filter (where finished),
                       count(*) filter (where finished and status = 'published'),
                       count(*) filter (where finished and retry_count > 0),
                       coalesce(sum(delay), 0)::float8,
                       count(delay)
                from posts group by platform order by platform
                """, connection, transaction);
            query.Parameters.AddWithValue("since", since);
            // Open-ended: Npgsql sends the largest instant as PostgreSQL's infinity.
            query.Parameters.AddWithValue("until", DateTimeOffset.MaxValue);
            var platforms = new List<PlatformCounts>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                platforms.Add(new PlatformCounts(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
                    reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9),
                    reader.GetInt64(10), reader.GetInt64(11), reader.GetDouble(12), reader.GetInt64(13)));
            }
            return platforms;
        }, cancellationToken);

    /// <summary>
    /// Whether a post finished in [@since, @until): published (by published_at), or failed, missed or unconfirmed (by
    /// updated_at, the time it reached that status). The figures' one definition of "finished".
    /// </summary>
    private const string FinishedIn = """
        ((status = 'published' and published_at >= @since and published_at < @until)
         or (status in ('failed', 'missed', 'unconfirmed') and updated_at >= @since and updated_at < @until))
        """;

    /// <summary>The caller's posts finished in [<paramref name="since"/>, <paramref name="until"/>), counted per channel.</summary>
    public Task<List<ChannelStatistics>> CountByChannelAsync(Guid userId, DateTimeOffset since, DateTimeOffset until,
        CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // Row-level security limits the rows to the caller's workspaces; naming them too lets an index find them.
            await using var query = new NpgsqlCommand($"""
                with finished as (
                    select channel_id, status, retry_count, published_at, publish_at from scheduled_posts
                    where workspace_id in {WorkspaceAccess.CallerWorkspaces} and {FinishedIn})
                select c.id, c.platform, coalesce(c.display_name, ''),
                       count(*),
                       count(*) filter (where p.status = 'published'),
                       count(*) filter (where p.retry_count > 0),
                       coalesce(avg(extract(epoch from p.published_at - p.publish_at)) filter (where p.status = 'published'), 0)::float8
                from finished p join channels c on c.id = p.channel_id
                group by c.id, c.platform, c.display_name
                order by c.platform, 3, c.id
                """, connection, transaction);
            query.Parameters.AddWithValue("since", since);
            query.Parameters.AddWithValue("until", until);
            var channels = new List<ChannelStatistics>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                channels.Add(new ChannelStatistics
                {
                    ChannelId = reader.GetGuid(0).ToString(),
                    Platform = Vocabulary.ToPlatform(reader.GetString(1)),
                    DisplayName = reader.GetString(2),
                    Finished = reader.GetInt64(3),
                    Published = reader.GetInt64(4),
                    Retried = reader.GetInt64(5),
                    MeanPublishDelaySeconds = reader.GetDouble(6),
                });
            }
            return channels;
        }, cancellationToken);

    /// <summary>
    /// Posts due but not dispatched (queued with due_at before <paramref name="now"/>: a dead or stuck dispatcher
    /// shows here first), publishing posts, and the schedule outbox's backlog and oldest change. Untraced.
    /// </summary>
    public async Task<PostsSnapshot> SampleAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var quiet = SocialSyncTelemetry.Quiet();
        await using var query = database.Owner.CreateCommand("""
            select
                (select count(*) from scheduled_posts where status = 'queued' and due_at < @now),
                (select count(*) from scheduled_posts where status = 'publishing'),
                (select count(*) from schedule_outbox),
                coalesce((select extract(epoch from (now() - min(created_at))) from schedule_outbox), 0)::float8
            """);
        query.Parameters.AddWithValue("now", now);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new PostsSnapshot(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2),
            TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(3))));
    }

    /// <summary>
    /// Every queued post, counted: a scan of the due index's queued entries, so its cost grows with the queue (about
    /// 350 ms at a million queued posts, docs/scale.md). Untraced.
    /// </summary>
    public async Task<long> CountQueuedAsync(CancellationToken cancellationToken)
    {
        using var quiet = SocialSyncTelemetry.Quiet();
        await using var query = database.Owner.CreateCommand("select count(*) from scheduled_posts where status = 'queued'");
        return (long)(await query.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The figures the alerts are judged on (<see cref="PublishingAlerts"/>), over every user's posts. Runs are counted
    /// by started_at (indexed) over the window: a run lasts seconds, so "started within the last hour" is "ended within
    /// it" for the purpose. Only a failed run is joined with its post (was it the post's last attempt, and did the post
    /// fail?): the others are counted from the runs alone, where a join of every run of the hour with its post took
    /// 250–550 ms a call under load (docs/scale.md). Untraced: the gauges ask every few seconds, /health when their
    /// sample is stale.
    /// </summary>
    public async Task<AlertFigures> AlertFiguresAsync(DateTimeOffset now, AlertThresholds thresholds, CancellationToken cancellationToken)
    {
        using var quiet = SocialSyncTelemetry.Quiet();
        await using var query = database.Owner.CreateCommand("""
            select
                (select count(*) from scheduled_posts where status = 'publishing' and updated_at < @stuck_before),
                coalesce((select extract(epoch from (@now - min(p.due_at)))
                          from scheduled_posts p join channels c on c.id = p.channel_id
                          where p.status = 'queued' and p.due_at < @now and not holds_posts(c.state)), 0)::float8,
                w.posts, w.retries, w.successes,
                (select count(*)
                 from post_runs r join scheduled_posts p on p.id = r.scheduled_post_id
                 where r.started_at >= @window_start and r.status = 'failed' and p.status = 'failed' and p.attempt = r.attempt)
            from (select count(distinct scheduled_post_id) as posts, count(*) filter (where attempt > 1) as retries,
                         count(*) filter (where status = 'success') as successes
                  from post_runs where started_at >= @window_start) w
            """);
        query.Parameters.AddWithValue("now", now);
        query.Parameters.AddWithValue("window_start", now - thresholds.Window);
        query.Parameters.AddWithValue("stuck_before", now - thresholds.StuckPublishingAfter);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new AlertFigures(reader.GetInt64(0), TimeSpan.FromSeconds(Math.Max(0, reader.GetDouble(1))),
            reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
    }
}
