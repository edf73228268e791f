using System.Diagnostics;
using Npgsql;

namespace SocialSync.Benchmarks;

/// <summary>How many rows a preload writes: future posts, their users and channels, and the history behind them.</summary>
public sealed record PreloadSize(int Posts, int Users, int Channels)
{
    /// <summary>Published posts of the last <see cref="HistoryDays"/> days: as many as the scheduled ones.</summary>
    public int HistoryPosts => Posts;

    /// <summary>Each published post's runs: two failed attempts, then the one that published it (3 runs per post).</summary>
    public const int RunsPerHistoryPost = 3;

    public long Runs => (long)HistoryPosts * RunsPerHistoryPost;

    public const int ScheduleDays = 30;
    public const int HistoryDays = 90;
}

/// <summary>How long each step of a preload took.</summary>
public sealed record PreloadTimes(TimeSpan UsersAndChannels, TimeSpan ScheduledPosts, TimeSpan HistoryPosts, TimeSpan Runs, TimeSpan Analyze, TimeSpan Checkpoint)
{
    public TimeSpan Total => UsersAndChannels + ScheduledPosts + HistoryPosts + Runs + Analyze + Checkpoint;
}

/// <summary>
/// Fills PostsService's database with a deployment's worth of rows in a few statements, server-side
/// (<c>insert ... select ... from generate_series</c>), as the database's owner: users with their personal workspaces
/// (each its owner, as PostsService makes them, so row-level security lets each user see exactly their rows),
/// WhatsApp channels copied from a channel made through the API (its encrypted token and settings), scheduled posts
/// over the coming month, published posts of the last three months and their runs. Check constraints, unique keys
/// and foreign keys hold as for any insert. The posts' user triggers are off meanwhile: they would write an outbox
/// row and a change-log row per post, for a relay to index them one by one; the scheduler's rebuild after FLUSHALL
/// indexes them instead (and is measured). Published posts are not indexed, so they need no outbox row.
/// </summary>
public static class Preload
{
    public static async Task<PreloadTimes> RunAsync(string connectionString, PreloadSize size, Guid templateChannel, Guid templatePost, TextWriter log)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var now = DateTimeOffset.UtcNow;

        async Task<TimeSpan> StepAsync(string what, string sql)
        {
            var started = Stopwatch.GetTimestamp();
            await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
            command.Parameters.AddWithValue("users", size.Users);
            command.Parameters.AddWithValue("channels", size.Channels);
            command.Parameters.AddWithValue("posts", size.Posts);
            command.Parameters.AddWithValue("history", size.HistoryPosts);
            command.Parameters.AddWithValue("runs_per_post", PreloadSize.RunsPerHistoryPost);
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("template_channel", templateChannel);
            command.Parameters.AddWithValue("template_post", templatePost);
            var rows = await command.ExecuteNonQueryAsync();
            var took = Stopwatch.GetElapsedTime(started);
            log.WriteLine($"preload: {what}: {rows:N0} rows in {took.TotalSeconds:F1} s");
            return took;
        }

        var usersAndChannels = await StepAsync("users, workspaces and channels", """
            create temp table preload_users as select n, gen_random_uuid() as id from generate_series(0, @users - 1) n;
            insert into workspaces (id, name, personal, created_by) select id, 'Personal', true, id from preload_users;
            insert into workspace_members (workspace_id, user_id, role) select id, id, 'owner' from preload_users;
            -- Channel n belongs to user n % users, so consecutive posts spread over users and channels alike.
            create temp table preload_channels as
                select g.n, gen_random_uuid() as id, u.id as user_id
                from generate_series(0, @channels - 1) g (n) join preload_users u on u.n = g.n % @users;
            create unique index on preload_channels (n);
            analyze preload_channels;
            insert into channels (id, user_id, workspace_id, platform, account_id, display_name, access_token_encrypted, settings)
            select c.id, c.user_id, c.user_id, 'whatsapp', 'preload-' || c.n, 'Preloaded ' || c.n, t.access_token_encrypted, t.settings
            from preload_channels c, (select access_token_encrypted, settings from channels where id = @template_channel) t;
            alter table scheduled_posts disable trigger user;
            """);
        try
        {
            var scheduled = await StepAsync("scheduled posts over the coming month", $"""
                insert into scheduled_posts (user_id, channel_id, workspace_id, platform, content_json, publish_at, due_at, status)
                select c.user_id, c.id, c.user_id, 'whatsapp', jsonb_set(t.content_json, array['text'], to_jsonb('preloaded ' || i)), at, at, 'queued'
                from generate_series(0, @posts - 1) i
                join preload_channels c on c.n = i % @channels
                cross join lateral (select @now + interval '1 hour' + (i::float8 / @posts) * interval '{PreloadSize.ScheduleDays} days' as at) due
                cross join (select content_json from scheduled_posts where id = @template_post) t;
                """);
            var history = await StepAsync("published posts of the last three months", $"""
                create temp table preload_history as
                    select gen_random_uuid() as id, c.user_id, c.id as channel_id, i,
                           @now - interval '1 hour' - (i::float8 / @history) * interval '{PreloadSize.HistoryDays} days' as at
                    from generate_series(0, @history - 1) i join preload_channels c on c.n = i % @channels;
                insert into scheduled_posts (id, user_id, channel_id, workspace_id, platform, content_json, publish_at, due_at, status,
                                             published_at, platform_post_id, retry_count, attempt, created_at, updated_at)
                select h.id, h.user_id, h.channel_id, h.user_id, 'whatsapp', jsonb_set(t.content_json, array['text'], to_jsonb('published ' || h.i)),
                       h.at, h.at, 'published', h.at + interval '65 seconds', 'wamid.preload' || h.i, @runs_per_post - 1, @runs_per_post,
                       h.at - interval '1 day', h.at + interval '65 seconds'
                from preload_history h cross join (select content_json from scheduled_posts where id = @template_post) t;
                """);
            var runs = await StepAsync("runs of the published posts", """
                insert into post_runs (scheduled_post_id, user_id, workspace_id, attempt, started_at, finished_at, status, error, error_code, created_at)
                select h.id, h.user_id, h.user_id, a, h.at + (a - 1) * interval '30 seconds', h.at + (a - 1) * interval '30 seconds' + interval '1 second',
                       case when a = @runs_per_post then 'success' else 'failed' end,
                       case when a = @runs_per_post then null else 'preloaded: the platform answered 503' end,
                       case when a = @runs_per_post then null else 503 end,
                       h.at + (a - 1) * interval '30 seconds'
                from preload_history h cross join generate_series(1, @runs_per_post) a;
                """);
            await StepAsync("triggers back on", "alter table scheduled_posts enable trigger user");
            var analyze = await StepAsync("vacuum analyze", "vacuum analyze workspaces, workspace_members, channels, scheduled_posts, post_runs");
            // The measured phases should not pay for writing the preload back: a checkpoint writes it before they
            // start (it took about 1 s, so that was not what slowed the preloaded creates: docs/scale.md).
            var checkpoint = await StepAsync("checkpoint", "checkpoint");
            return new PreloadTimes(usersAndChannels, scheduled, history, runs, analyze, checkpoint);
        }
        catch
        {
            await using var enable = new NpgsqlCommand("alter table scheduled_posts enable trigger user", connection);
            await enable.ExecuteNonQueryAsync();
            throw;
        }
    }
}
