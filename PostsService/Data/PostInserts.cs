using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>What one create made: its post, or why none (its request_id was used for another request, or the create that used it has not committed yet).</summary>
public readonly record struct InsertResult(ScheduledPost? Post, DomainException? Refusal)
{
    /// <summary>Whether the post was made earlier, by the first create under the same request_id (AIP-155 retry).</summary>
    public bool Repeated { get; init; }

    public ScheduledPost PostOrThrow() => Post ?? throw Refusal ?? ConcurrentChangeException.RepeatInFlight();
}

/// <summary>
/// The statements every create shares, set-based so that one post or a whole group commit of many users' posts costs
/// the same: one statement reads every channel, one inserts every post. The transaction names its users in
/// app.batch_user_ids, and the row-level security policies of migration 0028 admit each row only for the user it
/// pairs with (a channel with the user who posts on it, a post with its own user_id), so no user of a group commit
/// reaches a workspace that only another of its users belongs to.
/// </summary>
public static class PostInserts
{
    /// <summary>
    /// Loads each user's live channels among the ids given, with the user's role in each one's workspace, locked for
    /// share so a concurrent channel delete waits for this transaction. Channels of workspaces the user is not in are
    /// not paired with that user, so they are simply absent for them (NOT_FOUND to the caller).
    /// </summary>
    public static async Task<Dictionary<Guid, PostingChannel>[]> LoadChannelsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(Guid UserId, Guid[] ChannelIds)> users, CancellationToken cancellationToken)
    {
        var pairs = users.SelectMany((user, index) => user.ChannelIds.Select(channel => (Index: index, user.UserId, Channel: channel))).ToList();
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                SetGroupCommitUsers(users.Select(u => u.UserId)),
                new NpgsqlBatchCommand(ChannelsReadSql)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = pairs.Select(p => p.Index).ToArray() },
                        new NpgsqlParameter { Value = pairs.Select(p => p.UserId).ToArray() },
                        new NpgsqlParameter { Value = pairs.Select(p => p.Channel).ToArray() },
                    },
                },
            },
        };
        var channels = users.Select(_ => new Dictionary<Guid, PostingChannel>()).ToArray();
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            channels[reader.GetInt32(ChannelRows.ColumnCount + 2)][reader.GetGuid(0)] = new PostingChannel(ChannelRows.Read(reader),
                WorkspaceRoles.FromDb(reader.IsDBNull(ChannelRows.ColumnCount) ? null : reader.GetString(ChannelRows.ColumnCount)),
                !reader.IsDBNull(ChannelRows.ColumnCount + 1) && reader.GetBoolean(ChannelRows.ColumnCount + 1));
        }
        return channels;
    }

    /// <summary>
    /// One user's channels for <paramref name="posts"/>, locked for share, each post checked against its own (visible,
    /// role, the platform's content and recipient rules): a refusal (NOT_FOUND, PERMISSION_DENIED) is thrown at once,
    /// the field violations of all the posts together.
    /// </summary>
    public static async Task<Dictionary<Guid, PostingChannel>> LoadCheckedChannelsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid userId, IReadOnlyList<NewPost> posts, CancellationToken cancellationToken)
    {
        var channels = (await LoadChannelsAsync(connection, transaction, [(userId, posts.Select(p => p.ChannelId).Distinct().ToArray())], cancellationToken))[0];
        var violations = new FieldViolations();
        foreach (var post in posts)
        {
            if (post.CheckChannel(channels, violations) is { } refused)
            {
                throw refused;
            }
        }
        violations.ThrowIfAny();
        return channels;
    }

    /// <summary>
    /// Inserts every user's posts (each channel already checked) with one statement, in the caller's transaction. A
    /// request_id used before yields the post that first create made when the request is the same (AIP-155: a retry),
    /// and a refusal when it differs (<see cref="RequestIdReusedException"/>). Each user's results are in the order
    /// of its posts.
    /// </summary>
    public static async Task<InsertResult[][]> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(Guid UserId, IReadOnlyList<NewPost> Posts, IReadOnlyDictionary<Guid, PostingChannel> Channels)> users, CancellationToken cancellationToken)
    {
        // Time-ordered ids (UUIDv7): a new post's primary-key entry goes beside the last ones made instead of into a
        // random page of the index, which at millions of posts no longer stays in PostgreSQL's buffers (bench/million.md).
        var rows = users.SelectMany((user, index) => user.Posts.Select((post, i) => new PostRow(index, i, user.UserId, post, user.Channels[post.ChannelId], Guid.CreateVersion7())))
            .ToList();
        var byId = rows.ToDictionary(r => r.Id);
        var created = users.Select(u => new InsertResult[u.Posts.Count]).ToArray();
        await using (var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { SetGroupCommitUsers(users.Select(u => u.UserId)), InsertCommand(rows) } })
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = byId[reader.GetGuid(0)];
                created[row.User][row.Index] = new InsertResult(PostRows.Read(reader), null);
            }
        }

        for (var u = 0; u < users.Count; u++)
        {
            var repeated = Enumerable.Range(0, users[u].Posts.Count).Where(i => created[u][i].Post is null).ToList();
            if (repeated.Count > 0)
            {
                await FillRepeatedAsync(connection, transaction, users[u].UserId, users[u].Posts, repeated, created[u], cancellationToken);
            }
        }
        return created;
    }

    /// <summary>One post to insert: its user's place in the call, its own place in that user's list, and its new id.</summary>
    private sealed record PostRow(int User, int Index, Guid UserId, NewPost Post, PostingChannel Channel, Guid Id);

    private const string QualifiedChannelColumns =
        "c.id, c.platform, c.account_id, c.display_name, c.settings::text, c.state, c.state_reason, c.created_at, c.updated_at, c.version, " +
        "c.token_expires_at, c.token_expiring_reason, c.workspace_id";

    // The group commit's statements, public because bench/create-statements.sh replays them with pgbench and a
    // test holds its copy to these texts.

    /// <summary>The channels' read of <see cref="LoadChannelsAsync"/>: (ordinal, poster, channel) arrays in, each channel paired with its poster's membership.</summary>
    public const string ChannelsReadSql = $"""
        select {QualifiedChannelColumns}, m.role, m.requires_approval, p.ord
        from unnest($1::int[], $2::uuid[], $3::uuid[]) as p(ord, poster, channel)
        join channels c on c.id = p.channel and c.deleted_at is null
        join app_batch_memberships() m on m.workspace = c.workspace_id and m.member = p.poster
        for share of c
        """;

    /// <summary>The insert of <see cref="InsertAsync"/>: one array a column, one element a post.</summary>
    public const string InsertSql = $"""
        insert into scheduled_posts (id, user_id, workspace_id, status, needs_approval, submitted_by, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule, request_id, request_hash,
                                     traceparent, recipients)
        select p.id, p.user_id, p.workspace_id, p.status, p.needs_approval, case when p.status = 'pending_approval' then p.user_id end,
            p.channel_id, p.platform, p.content::jsonb, p.publish_at, p.publish_at, p.time_zone, p.rrule, p.request_id, p.request_hash,
            p.traceparent,
            -- unnest flattens a two-dimensional array, so each post's recipients come as one JSON array.
            case when p.recipients is not null then array(select jsonb_array_elements_text(p.recipients::jsonb)) end
        from unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            as p(id, user_id, channel_id, platform, content, publish_at, time_zone, rrule, request_id, traceparent, request_hash, recipients, workspace_id, status, needs_approval)
        on conflict (user_id, request_id) where request_id is not null do nothing
        returning {PostRows.Columns}
        """;

    /// <summary>Names the group commit's users for the row-level security policies, for the rest of the transaction.</summary>
    public const string SetGroupCommitUsersSql = "select set_config('app.batch_user_ids', $1, true)";

    private static NpgsqlBatchCommand SetGroupCommitUsers(IEnumerable<Guid> users) =>
        new(SetGroupCommitUsersSql)
        {
            Parameters = { new NpgsqlParameter { Value = "{" + string.Join(',', users.Distinct()) + "}" } },
        };

    private static NpgsqlBatchCommand SetUser(Guid userId) =>
        new("select set_config('app.user_id', $1, true)") { Parameters = { new NpgsqlParameter { Value = userId.ToString() } } };

    private static NpgsqlBatchCommand InsertCommand(IReadOnlyList<PostRow> rows) =>
        new(InsertSql)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.UserId).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.Post.ChannelId).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.Channel.Channel.Platform.ToDb()).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => ContentJson.Serialize(r.Post.Request.Content)).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.Post.PublishAt.UtcDateTime).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => ProtoStrings.NullIfUnset(r.Post.TimeZone)).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => ProtoStrings.NullIfUnset(r.Post.Rrule)).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => ProtoStrings.NullIfUnset(r.Post.Request.RequestId)).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => ProtoStrings.NullIfUnset(r.Post.Traceparent)).ToArray() },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = rows.Select(r => r.Post.RequestHash).ToArray() },
                new NpgsqlParameter
                {
                    Value = rows.Select(r => r.Post.Request.Recipients.Count > 0 ? System.Text.Json.JsonSerializer.Serialize(r.Post.Request.Recipients) : null).ToArray(),
                },
                // A post's workspace is its channel's (the database holds the same with a foreign key).
                new NpgsqlParameter { Value = rows.Select(r => Guid.Parse(r.Channel.Channel.WorkspaceId)).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.Channel.InitialStatus(r.Post.Request.Draft).ToDb()).ToArray() },
                new NpgsqlParameter { Value = rows.Select(r => r.Channel.NeedsApproval).ToArray() },
            },
        };

    /// <summary>
    /// Answers the creates whose request_id was taken: with the post made under it when the stored request hash
    /// matches (a retry), else with a refusal naming the request_id.
    /// </summary>
    private static async Task FillRepeatedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId,
        IReadOnlyList<NewPost> posts, List<int> repeated, InsertResult[] created, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                SetUser(userId),
                new NpgsqlBatchCommand($"select {PostRows.Columns}, request_id, request_hash from scheduled_posts where user_id = $1 and request_id = any($2)")
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = userId },
                        new NpgsqlParameter { Value = repeated.Select(i => posts[i].Request.RequestId).Distinct().ToArray() },
                    },
                },
            },
        };
        var byRequestId = new Dictionary<string, (ScheduledPost Post, byte[]? Hash)>(StringComparer.Ordinal);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var hash = reader.IsDBNull(PostRows.ColumnCount + 1) ? null : reader.GetFieldValue<byte[]>(PostRows.ColumnCount + 1);
            byRequestId[reader.GetString(PostRows.ColumnCount)] = (PostRows.Read(reader), hash);
        }
        foreach (var i in repeated)
        {
            var post = posts[i];
            if (!byRequestId.TryGetValue(post.Request.RequestId, out var first))
            {
                created[i] = new InsertResult(null, ConcurrentChangeException.RepeatInFlight());
            }
            else if (post.IsRepeatOf(first.Hash))
            {
                created[i] = new InsertResult(first.Post, null) { Repeated = true };
            }
            else
            {
                created[i] = new InsertResult(null, new RequestIdReusedException(post.RequestIdField, post.Request.RequestId, first.Post.Id));
            }
        }
    }
}
