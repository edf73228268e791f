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
/// The statements every create shares, set-based so that one post or five hundred cost the same round trips, and
/// pipelined across users: for each user the transaction's user is set (row-level security) and then that user's
/// channels are read, or posts inserted, all in one round trip.
/// </summary>
public static class PostInserts
{
    /// <summary>
    /// Loads each user's live channels among the ids given, with the user's role in each one's workspace, locked for
    /// share so a concurrent channel delete waits for this transaction. Channels of workspaces the user is not in are
    /// not visible, so they are simply absent (NOT_FOUND to the caller).
    /// </summary>
    public static async Task<Dictionary<Guid, PostingChannel>[]> LoadChannelsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(Guid UserId, Guid[] ChannelIds)> users, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        foreach (var (userId, channelIds) in users)
        {
            batch.BatchCommands.Add(SetUser(userId));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                $"""
                select {ChannelRows.Columns}, app_role(workspace_id), (select w.requires_approval from workspaces w where w.id = channels.workspace_id)
                from channels where id = any($1) and deleted_at is null for share
                """)
            {
                Parameters = { new NpgsqlParameter { Value = channelIds } },
            });
        }
        var channels = new Dictionary<Guid, PostingChannel>[users.Count];
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        for (var u = 0; u < users.Count; u++)
        {
            await SkipSetUserAsync(reader, u, cancellationToken);
            channels[u] = [];
            while (await reader.ReadAsync(cancellationToken))
            {
                channels[u][reader.GetGuid(0)] = new PostingChannel(ChannelRows.Read(reader),
                    WorkspaceRoles.FromDb(reader.IsDBNull(ChannelRows.ColumnCount) ? null : reader.GetString(ChannelRows.ColumnCount)),
                    !reader.IsDBNull(ChannelRows.ColumnCount + 1) && reader.GetBoolean(ChannelRows.ColumnCount + 1));
            }
        }
        return channels;
    }

    /// <summary>
    /// Inserts each user's posts (each channel already checked) with one statement per user, in the caller's
    /// transaction. A request_id used before yields the post that first create made when the request is the same
    /// (AIP-155: a retry), and a refusal when it differs (<see cref="RequestIdReusedException"/>). Each user's results
    /// are in the order of its posts.
    /// </summary>
    public static async Task<InsertResult[][]> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        IReadOnlyList<(Guid UserId, IReadOnlyList<NewPost> Posts, IReadOnlyDictionary<Guid, PostingChannel> Channels)> users, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        var indexes = new Dictionary<Guid, int>[users.Count];
        for (var u = 0; u < users.Count; u++)
        {
            batch.BatchCommands.Add(SetUser(users[u].UserId));
            batch.BatchCommands.Add(InsertCommand(users[u].UserId, users[u].Posts, users[u].Channels, out indexes[u]));
        }
        var created = new InsertResult[users.Count][];
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            for (var u = 0; u < users.Count; u++)
            {
                await SkipSetUserAsync(reader, u, cancellationToken);
                created[u] = new InsertResult[users[u].Posts.Count];
                while (await reader.ReadAsync(cancellationToken))
                {
                    created[u][indexes[u][reader.GetGuid(0)]] = new InsertResult(PostRows.Read(reader), null);
                }
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

    private static NpgsqlBatchCommand SetUser(Guid userId) =>
        new("select set_config('app.user_id', $1, true)") { Parameters = { new NpgsqlParameter { Value = userId.ToString() } } };

    /// <summary>Moves past the set_config result that opens each user's part of a batch, onto that part's own result.</summary>
    private static async Task SkipSetUserAsync(NpgsqlDataReader reader, int user, CancellationToken cancellationToken)
    {
        if (user > 0)
        {
            await reader.NextResultAsync(cancellationToken);
        }
        await reader.NextResultAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand InsertCommand(Guid userId, IReadOnlyList<NewPost> posts, IReadOnlyDictionary<Guid, PostingChannel> channels,
        out Dictionary<Guid, int> index)
    {
        var ids = new Guid[posts.Count];
        index = new Dictionary<Guid, int>(posts.Count);
        for (var i = 0; i < posts.Count; i++)
        {
            ids[i] = Guid.NewGuid();
            index[ids[i]] = i;
        }
        return new NpgsqlBatchCommand($"""
            insert into scheduled_posts (id, user_id, workspace_id, status, needs_approval, submitted_by, channel_id, platform, content_json, publish_at, due_at, time_zone, rrule, request_id, request_hash,
                                         traceparent, recipients)
            select p.id, $1, p.workspace_id, p.status, p.needs_approval, case when p.status = 'pending_approval' then $1::uuid end,
                p.channel_id, p.platform, p.content::jsonb, p.publish_at, p.publish_at, p.time_zone, p.rrule, p.request_id, p.request_hash,
                p.traceparent,
                -- unnest flattens a two-dimensional array, so each post's recipients come as one JSON array.
                case when p.recipients is not null then array(select jsonb_array_elements_text(p.recipients::jsonb)) end
            from unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                as p(id, channel_id, platform, content, publish_at, time_zone, rrule, request_id, traceparent, request_hash, recipients, workspace_id, status, needs_approval)
            on conflict (user_id, request_id) where request_id is not null do nothing
            returning {PostRows.Columns}
            """)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = userId },
                new NpgsqlParameter { Value = ids },
                new NpgsqlParameter { Value = posts.Select(p => p.ChannelId).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => channels[p.ChannelId].Channel.Platform.ToDb()).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => ContentJson.Serialize(p.Request.Content)).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => p.PublishAt.UtcDateTime).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => ProtoStrings.NullIfUnset(p.TimeZone)).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => ProtoStrings.NullIfUnset(p.Rrule)).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => ProtoStrings.NullIfUnset(p.Request.RequestId)).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => ProtoStrings.NullIfUnset(p.Traceparent)).ToArray() },
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = posts.Select(p => p.RequestHash).ToArray() },
                new NpgsqlParameter
                {
                    Value = posts.Select(p => p.Request.Recipients.Count > 0 ? System.Text.Json.JsonSerializer.Serialize(p.Request.Recipients) : null).ToArray(),
                },
                // A post's workspace is its channel's (the database holds the same with a foreign key).
                new NpgsqlParameter { Value = posts.Select(p => Guid.Parse(channels[p.ChannelId].Channel.WorkspaceId)).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => channels[p.ChannelId].InitialStatus(p.Request.Draft).ToDb()).ToArray() },
                new NpgsqlParameter { Value = posts.Select(p => channels[p.ChannelId].NeedsApproval).ToArray() },
            },
        };
    }

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
        await SkipSetUserAsync(reader, 0, cancellationToken);
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
