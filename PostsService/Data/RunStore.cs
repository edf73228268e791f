using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Data;

/// <summary>
/// An attempt whose run was opened (<see cref="RunId"/> is null when the channel holds its posts: no run, the post is
/// held), with its channel's access (the token decrypted), which several attempts of a batch may share.
/// </summary>
public sealed record OpenedRun(Guid PostId, int Attempt, Guid? RunId, ChannelAccess Channel);

/// <summary>An attempt to start, with the run id its handling chose (the same on a retried call of that handling).</summary>
public sealed record RunRequest(Guid PostId, int Attempt, Guid RunId);

/// <summary>
/// Post runs: the record of each attempt to publish. A run is opened before the platform is called (so an attempt
/// that may have reached the platform is never forgotten) and closed by the attempt's outcome
/// (<see cref="OutcomeStore"/>); every write names the claim's attempt, so a fenced-out worker changes nothing.
/// </summary>
public sealed class RunStore(PostsDatabase database, AccessTokenProtector protector)
{
    /// <summary>A call that starts with less than this share of the lease left on its claim renews the lease.</summary>
    private const double LeaseRenewedBelow = 0.9;

    // Locks the attempts' posts first, in one order, so that a concurrent handling of the same attempt has either
    // committed its run before the statement below takes its snapshot, or waits for this transaction.
    private const string LockAttempts = """
        select 1 from scheduled_posts where id = any(@ids) and status = 'publishing' order by id for no key update
        """;

    private const string OpenRuns = """
        with started as (
            -- Locked, not updated: a lease recovery (which skips locked rows) cannot requeue the claim until the run
            -- is committed, and from then on the run itself says the platform may have been called.
            select p.id, p.attempt, p.channel_id, p.user_id, p.workspace_id, p.dispatch_late_ms, r.run_id
            from scheduled_posts p
            join unnest(@ids, @attempts, @run_ids) as r(run_post_id, run_attempt, run_id) on p.id = r.run_post_id and p.attempt = r.run_attempt
            -- "p.id = any" lets even a generic plan look the rows up by key instead of scanning the table.
            where p.id = any(@ids) and p.status = 'publishing'
              -- Another handling of this attempt opened a run: it may have called the platform already (a dispatch
              -- retried after the replica that had it died). Only the lease's expiry and a reconciling attempt may
              -- follow it; a retry of the same handling names the same run and goes on.
              and not exists (select 1 from post_runs o where o.scheduled_post_id = p.id and o.attempt = p.attempt and o.id <> r.run_id)
            for no key update of p),
        extended as (
            -- The claim's lease is renewed only when the call starts late in it: each update writes every index.
            update scheduled_posts p set lease_expires_at = @now + @lease
            from started s
            where p.id = s.id and p.lease_expires_at < @now + @lease * @renew_below),
        runs as (
            insert into post_runs (id, scheduled_post_id, user_id, workspace_id, attempt, started_at, dispatch_late_ms)
            select s.run_id, s.id, s.user_id, s.workspace_id, s.attempt, @now, s.dispatch_late_ms
            from started s join channels c on c.id = s.channel_id
            where not holds_posts(c.state)
            on conflict (id) do nothing)
        select s.id, s.attempt, case when not holds_posts(c.state) then s.run_id end, c.id, c.platform, c.account_id,
            c.access_token_encrypted, c.settings::text, c.state, c.rate_limited_until
        from started s
        join channels c on c.id = s.channel_id
        """;

    /// <summary>
    /// Opens each attempt's run and renews a lease running short, in one transaction; attempts that are no longer
    /// the current claim, or whose run another handling opened, are left out of the answer. The post itself is not
    /// read again: the claim handed it over.
    /// </summary>
    public async Task<Dictionary<Guid, OpenedRun>> OpenAsync(IReadOnlyCollection<RunRequest> wanted, DateTimeOffset now,
        TimeSpan lease, CancellationToken cancellationToken)
    {
        var opened = new Dictionary<Guid, OpenedRun>(wanted.Count);
        var distinct = wanted.DistinctBy(w => w.PostId).OrderBy(w => w.PostId).ToArray();
        if (distinct.Length == 0)
        {
            return opened;
        }
        var ids = distinct.Select(w => w.PostId).ToArray();
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(LockAttempts) { Parameters = { new NpgsqlParameter("ids", ids) } },
                new NpgsqlBatchCommand(OpenRuns)
                {
                    Parameters =
                    {
                        new NpgsqlParameter("ids", ids),
                        new NpgsqlParameter("attempts", distinct.Select(w => w.Attempt).ToArray()),
                        new NpgsqlParameter("run_ids", distinct.Select(w => w.RunId).ToArray()),
                        new NpgsqlParameter("now", now),
                        new NpgsqlParameter("lease", lease),
                        new NpgsqlParameter("renew_below", LeaseRenewedBelow),
                    },
                },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var channels = new Dictionary<Guid, ChannelAccess>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var channelId = reader.GetGuid(3);
            if (!channels.TryGetValue(channelId, out var channel))
            {
                channels[channelId] = channel = new ChannelAccess
                {
                    ChannelId = channelId.ToString(),
                    Platform = Vocabulary.ToPlatform(reader.GetString(4)),
                    AccountId = reader.GetString(5),
                    AccessToken = protector.Unprotect((byte[])reader[6]),
                    Settings = ChannelRows.ReadSettings(reader.GetString(7)),
                    State = Vocabulary.ToChannelState(reader.GetString(8)),
                    RateLimitedUntil = reader.IsDBNull(9) ? null : Timestamp.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(9)),
                };
            }
            opened[reader.GetGuid(0)] = new OpenedRun(reader.GetGuid(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), channel);
        }
        return opened;
    }

    /// <summary>Saves what the publisher must remember between calls of an attempt; false when the attempt is no longer the current claim.</summary>
    public async Task<bool> SavePlatformStateAsync(Guid postId, int attempt, string platformStateJson, CancellationToken cancellationToken)
    {
        await using var save = database.Owner.CreateCommand("""
            update scheduled_posts set platform_state = @state::jsonb
            where id = @id and attempt = @attempt and status = 'publishing'
            """);
        save.Parameters.AddWithValue("state", platformStateJson);
        save.Parameters.AddWithValue("id", postId);
        save.Parameters.AddWithValue("attempt", attempt);
        return await save.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>A user's post's latest runs, newest first; null when there is no such post of the user's.</summary>
    public Task<List<PostRun>?> ListAsync(Guid userId, Guid postId, int limit, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<List<PostRun>?>(userId, async (connection, transaction) =>
        {
            if (await PostRows.ReadStatusAsync(connection, transaction, postId, cancellationToken) is null)
            {
                return null;
            }
            await using var query = new NpgsqlCommand($"""
                select {RunRows.Columns} from post_runs where scheduled_post_id = @id
                order by started_at desc limit @limit
                """, connection, transaction);
            query.Parameters.AddWithValue("id", postId);
            query.Parameters.AddWithValue("limit", limit);
            var runs = new List<PostRun>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                runs.Add(RunRows.Read(reader));
            }
            return runs;
        }, cancellationToken);
}
