using Npgsql;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>An attempt that is the current claim of its post, with the run opened for it (none while its channel is not active).</summary>
public sealed record StartedRunRow(Guid PostId, int Attempt, Guid? RunId, Guid ChannelId);

/// <summary>A channel's credentials as stored: the access token still encrypted.</summary>
public sealed record ChannelAccessRow(Guid ChannelId, string Platform, string AccountId, byte[] EncryptedToken, string SettingsJson, string State);

/// <summary>
/// post_runs, the record of every attempt: a run is opened before the platform may be called, so that a lease that
/// expires after it sends the post to reconciliation instead of a blind resend.
/// </summary>
public sealed class RunStore(PostsDatabase database)
{
    private const string StartRuns = """
        with started as (
            -- Locked, not updated: a lease recovery (which skips locked rows) cannot requeue the claim until the run
            -- is committed, and from then on the run itself says the platform may have been called.
            select p.id, p.attempt, p.channel_id, p.user_id, p.dispatch_late_ms
            from scheduled_posts p
            join unnest($1::uuid[], $2::int[]) as r(run_post_id, run_attempt) on p.id = r.run_post_id and p.attempt = r.run_attempt
            -- "p.id = any" lets even a generic plan look the rows up by key instead of scanning the table.
            where p.id = any($1) and p.status = 'publishing'
            for no key update of p),
        extended as (
            -- The claim's lease is renewed only when the call starts late in it: each update writes every index.
            update scheduled_posts p set lease_expires_at = $3 + $4
            from started s
            where p.id = s.id and p.lease_expires_at < $3 + $4 * $5),
        runs as (
            insert into post_runs (scheduled_post_id, user_id, attempt, started_at, dispatch_late_ms)
            select s.id, s.user_id, s.attempt, $3, s.dispatch_late_ms
            from started s join channels c on c.id = s.channel_id
            where c.state = 'active'
            returning id as run_id, scheduled_post_id)
        select s.id, s.attempt, runs.run_id, c.id, c.platform, c.account_id, c.access_token_encrypted, c.settings::text, c.state
        from started s
        join channels c on c.id = s.channel_id
        left join runs on runs.scheduled_post_id = s.id
        """;

    private const string SaveState = """
        update scheduled_posts set platform_state = $1::jsonb
        where id = $2 and attempt = $3 and status = 'publishing'
        """;

    /// <summary>
    /// Opens a run for each attempt that is its post's current claim, renews leases running short of
    /// <paramref name="renewBelow"/> of <paramref name="lease"/>, and returns the started attempts with their
    /// channels (each once). Attempts that are no longer the current claim are left out.
    /// </summary>
    public async Task<(IReadOnlyList<StartedRunRow> Runs, IReadOnlyDictionary<Guid, ChannelAccessRow> Channels)> StartAsync(
        IReadOnlyList<(Guid PostId, int Attempt)> attempts, DateTimeOffset now, TimeSpan lease, double renewBelow, CancellationToken cancellationToken)
    {
        var runs = new List<StartedRunRow>(attempts.Count);
        var channels = new Dictionary<Guid, ChannelAccessRow>();
        if (attempts.Count == 0)
        {
            return (runs, channels);
        }
        await using var command = database.Owner.CreateCommand(StartRuns);
        command.Parameters.Add(new NpgsqlParameter { Value = attempts.Select(a => a.PostId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = attempts.Select(a => a.Attempt).ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = now });
        command.Parameters.Add(new NpgsqlParameter { Value = lease });
        command.Parameters.Add(new NpgsqlParameter { Value = renewBelow });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var channelId = reader.GetGuid(3);
            runs.Add(new StartedRunRow(reader.GetGuid(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), channelId));
            if (!channels.ContainsKey(channelId))
            {
                channels[channelId] = new ChannelAccessRow(channelId, reader.GetString(4), reader.GetString(5),
                    (byte[])reader[6], reader.GetString(7), reader.GetString(8));
            }
        }
        return (runs, channels);
    }

    /// <summary>Saves a platform's state for the current attempt; false when the attempt is no longer the current claim.</summary>
    public async Task<bool> SavePlatformStateAsync(Guid postId, int attempt, string stateJson, CancellationToken cancellationToken)
    {
        await using var save = database.Owner.CreateCommand(SaveState);
        save.Parameters.Add(new NpgsqlParameter { Value = stateJson });
        save.Parameters.Add(new NpgsqlParameter { Value = postId });
        save.Parameters.Add(new NpgsqlParameter { Value = attempt });
        return await save.ExecuteNonQueryAsync(cancellationToken) > 0;
    }
}
