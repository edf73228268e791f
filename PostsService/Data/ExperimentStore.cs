using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>What the finisher decided for one experiment.</summary>
public sealed record FinishedExperiment(Guid Id, Guid WorkspaceId, string WinnerLabel, Guid? WinnerPostId, bool SampleTooSmall);

/// <summary>
/// A/B experiments (docs/experiments.md): created with their variant posts as the caller (row-level security, the
/// role that writes posts), read with each variant's figures, and finished by the owner role (the finisher), once.
/// </summary>
public sealed class ExperimentStore(PostsDatabase database, ExperimentOptions options)
{
    /// <summary>
    /// Creates the variant posts (each as CreatePost would: the channel's content rules, drafts, approval) and the
    /// experiment linking them, all or none. WhatsApp recipients are the plan's, else the channel's, split by the plan's seed.
    /// </summary>
    public Task<Experiment> CreateAsync(Guid userId, ExperimentPlan plan, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (plan.RequestId is { } requestId && await FindRepeatAsync(connection, transaction, userId, requestId, plan.RequestHash, cancellationToken) is { } first)
            {
                return first;
            }
            var channels = (await PostInserts.LoadChannelsAsync(connection, transaction, [(userId, [plan.ChannelId])], cancellationToken))[0];
            if (!channels.TryGetValue(plan.ChannelId, out var target))
            {
                throw new NotFoundException("channel", plan.ChannelId.ToString());
            }
            target.CallerRole.Require(WorkspaceRoles.WritePosts, "create experiments");
            var workspaceId = Guid.Parse(target.Channel.WorkspaceId);
            var violations = new FieldViolations();
            if (plan.WorkspaceId is { } named && named != workspaceId)
            {
                violations.Add("workspace_id", "is not the channel's workspace");
            }
            var platform = target.Channel.Platform;
            var recipients = platform != Platform.Whatsapp ? [] : plan.Recipients.Count > 0 ? plan.Recipients : target.Channel.Settings.Recipients;
            ExperimentRules.CheckFor(plan, platform, recipients.Distinct(StringComparer.Ordinal).Count(), violations);
            violations.ThrowIfAny();

            var split = ExperimentSplit.Apply(recipients, plan.Variants.Count, plan.TestShare, plan.Seed);
            var posts = plan.Variants.Select((variant, i) => new NewPost(new CreatePostRequest
            {
                ChannelId = plan.ChannelId.ToString(),
                Content = variant.Content,
                PublishAt = Timestamp.FromDateTimeOffset(variant.PublishAt ?? plan.PublishAt!.Value),
                Draft = plan.Draft,
                Recipients = { platform == Platform.Whatsapp ? split.Variants[i] : [] },
            }, $"variants[{i}].", plan.ChannelId, variant.PublishAt ?? plan.PublishAt!.Value, null, null)).ToList();
            foreach (var post in posts)
            {
                if (post.CheckChannel(channels, violations) is { } refused)
                {
                    throw refused;
                }
            }
            violations.ThrowIfAny();
            var created = (await PostInserts.InsertAsync(connection, transaction, [(userId, posts, channels)], cancellationToken))[0]
                .Select(result => result.PostOrThrow()).ToList();

            var id = Guid.NewGuid();
            await using (var insert = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("""
                        insert into experiments (id, workspace_id, channel_id, platform, name, created_by, seed, test_share, holdout, winner_after, finishes_at,
                                                 request_id, request_hash)
                        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = id }, new() { Value = workspaceId }, new() { Value = plan.ChannelId }, new() { Value = platform.ToDb() },
                            new() { Value = plan.Name }, new() { Value = userId }, new() { Value = plan.Seed }, new() { Value = plan.TestShare },
                            new() { Value = split.Holdout.ToArray() }, new() { Value = plan.WinnerAfter }, new() { Value = plan.FinishesAt },
                            new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text, Value = (object?)plan.RequestId ?? DBNull.Value },
                            new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea, Value = (object?)plan.RequestHash ?? DBNull.Value },
                        },
                    },
                    new NpgsqlBatchCommand("""
                        insert into experiment_variants (experiment_id, label, post_id, workspace_id)
                        select $1, label, post_id, $2 from unnest($3::text[], $4::uuid[]) as v(label, post_id)
                        """)
                    {
                        Parameters =
                        {
                            new() { Value = id }, new() { Value = workspaceId },
                            new() { Value = created.Select((_, i) => ExperimentRules.Label(i)).ToArray() },
                            new() { Value = created.Select(p => Guid.Parse(p.Id)).ToArray() },
                        },
                    },
                },
            })
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            return (await ExperimentReads.ReadAsync(connection, transaction, "e.id = @id", q => q.Parameters.AddWithValue("id", id), 1, 0, cancellationToken)).Items[0];
        }, cancellationToken);

    /// <summary>
    /// The experiment an earlier create of the caller's made under <paramref name="requestId"/>: returned when it was
    /// made by the same request (a retry), refused with ALREADY_EXISTS when by another, null when there is none. Holds
    /// a transaction lock on the caller's request_id first, so concurrent repeats wait and find the first one made.
    /// </summary>
    private static async Task<Experiment?> FindRepeatAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid userId, string requestId,
        byte[]? requestHash, CancellationToken cancellationToken)
    {
        await using (var lockRequest = new NpgsqlCommand("select pg_advisory_xact_lock(hashtextextended(@key, 0))", connection, transaction))
        {
            lockRequest.Parameters.AddWithValue("key", $"experiment-request/{userId}/{requestId}");
            await lockRequest.ExecuteNonQueryAsync(cancellationToken);
        }
        Guid id;
        byte[]? storedHash;
        await using (var find = new NpgsqlCommand("select id, request_hash from experiments where created_by = @user and request_id = @request_id",
            connection, transaction))
        {
            find.Parameters.AddWithValue("user", userId);
            find.Parameters.AddWithValue("request_id", requestId);
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            id = reader.GetGuid(0);
            storedHash = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
        }
        if (!RequestHashes.IsRepeat(storedHash, requestHash))
        {
            throw new RequestIdReusedException("request_id", requestId, id.ToString(), "experiment");
        }
        // Made by this caller, but in a workspace they may since have left: then it is not theirs to see.
        return (await ExperimentReads.ReadAsync(connection, transaction, "e.id = @id", q => q.Parameters.AddWithValue("id", id), 1, 0, cancellationToken))
            .Items.FirstOrDefault() ?? throw new NotFoundException("experiment", id.ToString());
    }

    /// <summary>The experiment with its figures so far, as the caller sees it; null when it is not visible.</summary>
    public Task<Experiment?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
            (await ExperimentReads.ReadAsync(connection, transaction, "e.id = @id", q => q.Parameters.AddWithValue("id", id), 1, 0, cancellationToken)).Items.SingleOrDefault(),
            cancellationToken);

    /// <summary>The caller's workspaces' experiments (or one workspace's), newest first.</summary>
    public Task<Page<Experiment>> ListAsync(Guid userId, Guid? workspaceId, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, (connection, transaction) =>
            // No membership filter here: row-level security limits the rows to the caller's workspaces.
            ExperimentReads.ReadAsync(connection, transaction, "(@workspace::uuid is null or e.workspace_id = @workspace)",
                q => q.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value }),
                pageSize, offset, cancellationToken),
            cancellationToken);

    /// <summary>
    /// Finishes one due experiment, if any: every variant post settled (gone out, failed, cancelled...) and the window
    /// passed, both after the last publish time and after the last variant actually settled. The row is claimed with <c>for update skip locked</c> and only while unfinished, so replicas
    /// finishing at once each take another, and a second run finds nothing to do: one winner post, one event. In one
    /// transaction: the result, the winner post for the holdout, and the <c>experiment.finished</c> webhook deliveries.
    /// </summary>
    public async Task<FinishedExperiment?> FinishDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await database.Owner.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid id;
        await using (var claim = new NpgsqlCommand($"""
            select e.id from experiments e
            where e.finished_at is null and e.finishes_at <= @now
              and not exists (select 1 from experiment_variants v join scheduled_posts p on p.id = v.post_id
                              where v.experiment_id = e.id and p.status = any(@unsettled))
              -- The window also runs from when the last variant actually went out (or settled otherwise): a late
              -- publish still gets its statuses and snapshots measured for the whole window.
              and (select max(coalesce(p.published_at, p.updated_at)) from experiment_variants v join scheduled_posts p on p.id = v.post_id
                   where v.experiment_id = e.id) + e.winner_after <= @now
            order by e.finishes_at limit 1
            for update of e skip locked
            """, connection, transaction))
        {
            claim.Parameters.AddWithValue("now", now);
            claim.Parameters.AddWithValue("unsettled", Unsettled);
            if (await claim.ExecuteScalarAsync(cancellationToken) is not Guid due)
            {
                return null;
            }
            id = due;
        }
        var experiment = (await ExperimentReads.ReadAsync(connection, transaction, "e.id = @id", q => q.Parameters.AddWithValue("id", id), 1, 0, cancellationToken)).Items[0];
        var winner = ExperimentRules.Winner(experiment.Platform, experiment.Variants);
        var tooSmall = ExperimentRules.SampleTooSmall(experiment.Variants, options.MinimumSampleSize);
        Guid? winnerPostId = null;
        if (experiment.HoldoutRecipients.Count > 0)
        {
            // The winner's content, to the recipients held back, as one ordinary post due now. Queued, not sent for
            // approval again: the variant went out, so its content was approved if it had to be.
            await using var insert = new NpgsqlCommand("""
                insert into scheduled_posts (user_id, workspace_id, status, needs_approval, channel_id, platform, content_json, publish_at, due_at, recipients)
                select p.user_id, p.workspace_id, 'queued', false, p.channel_id, p.platform, p.content_json, @now, @now, @holdout
                from scheduled_posts p where p.id = @winner
                returning id
                """, connection, transaction);
            insert.Parameters.AddWithValue("now", now);
            insert.Parameters.AddWithValue("holdout", experiment.HoldoutRecipients.ToArray());
            insert.Parameters.AddWithValue("winner", Guid.Parse(winner.PostId));
            winnerPostId = await insert.ExecuteScalarAsync(cancellationToken) as Guid?;
        }
        experiment.State = ExperimentState.Finished;
        experiment.WinnerLabel = winner.Label;
        experiment.WinnerPostId = winnerPostId?.ToString() ?? "";
        experiment.SampleTooSmall = tooSmall;
        experiment.FinishedTime = Timestamp.FromDateTimeOffset(now);
        await using (var finish = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("""
                    update experiments set finished_at = $2, winner_label = $3, winner_post_id = $4, sample_too_small = $5, result = $6::jsonb
                    where id = $1
                    """)
                {
                    Parameters =
                    {
                        new() { Value = id }, new() { Value = now }, new() { Value = winner.Label },
                        new() { Value = (object?)winnerPostId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid }, new() { Value = tooSmall },
                        new() { Value = Google.Protobuf.JsonFormatter.Default.Format(experiment) },
                    },
                },
                // Queued in this transaction for the workspace's endpoints that want it, like channel.needs_reconnect
                // (0031): never lost, never sent for a finish that rolled back; its id is the experiment's, so it is one event.
                new NpgsqlBatchCommand("""
                    insert into webhook_deliveries (endpoint_id, workspace_id, event_id, event_type, payload)
                    select e.id, e.workspace_id, $2, $3, $4
                    from webhook_endpoints e where e.workspace_id = $1 and e.enabled and webhook_wants(e.event_types, $3)
                    on conflict (endpoint_id, event_id) do nothing
                    """)
                {
                    Parameters =
                    {
                        new() { Value = Guid.Parse(experiment.WorkspaceId) }, new() { Value = "evt_experiment_" + id.ToString("N") },
                        new() { Value = WebhookRules.ExperimentFinished }, new() { Value = FinishedEventBody(experiment, now) },
                    },
                },
            },
        })
        {
            await finish.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return new FinishedExperiment(id, Guid.Parse(experiment.WorkspaceId), winner.Label, winnerPostId, tooSmall);
    }

    /// <summary>Statuses a variant post may still leave toward going out: the experiment waits for them.</summary>
    private static readonly string[] Unsettled = ["queued", "publishing", "draft", "pending_approval"];

    private static string FinishedEventBody(Experiment experiment, DateTimeOffset now)
    {
        var variants = new JsonArray();
        foreach (var v in experiment.Variants)
        {
            variants.Add(new JsonObject
            {
                ["label"] = v.Label, ["post_id"] = v.PostId, ["sample_size"] = v.SampleSize,
                ["read_rate"] = v.ReadRate, ["engagement_rate"] = v.EngagementRate,
            });
        }
        return new JsonObject
        {
            ["type"] = WebhookRules.ExperimentFinished,
            ["timestamp"] = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["data"] = new JsonObject
            {
                ["experiment_id"] = experiment.Id, ["workspace_id"] = experiment.WorkspaceId, ["channel_id"] = experiment.ChannelId,
                ["platform"] = experiment.Platform.ToDb(), ["winner_label"] = experiment.WinnerLabel,
                ["winner_post_id"] = experiment.WinnerPostId.Length > 0 ? experiment.WinnerPostId : null,
                ["sample_too_small"] = experiment.SampleTooSmall, ["variants"] = variants,
            },
        }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
