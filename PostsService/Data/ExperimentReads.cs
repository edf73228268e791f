using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// How an experiment is read with its variants' figures, for the store's reads and for the finisher, which judges the
/// same figures the caller sees.
/// </summary>
internal static class ExperimentReads
{
    /// <summary>Experiments matching <paramref name="where"/> (on alias e), newest first, each with its variants and their figures.</summary>
    public static async Task<Page<Experiment>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string where,
        Action<NpgsqlCommand> bind, int pageSize, int offset, CancellationToken cancellationToken)
    {
        Page<Experiment> page;
        await using (var query = new NpgsqlCommand($"""
            select e.id, e.workspace_id, e.channel_id, e.platform, e.name, e.seed, e.test_share, e.holdout, e.winner_after, e.finishes_at,
                   e.finished_at, e.winner_label, e.winner_post_id, coalesce(e.sample_too_small, false), e.created_at, e.created_by
            from experiments e where {where}
            order by e.created_at desc, e.id limit @limit offset @offset
            """, connection, transaction))
        {
            bind(query);
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            page = await Page<Experiment>.ReadAsync(query, pageSize, ReadExperiment, cancellationToken);
        }
        if (page.Items.Count == 0)
        {
            return page;
        }
        var byId = page.Items.ToDictionary(e => e.Id);
        await using var variants = new NpgsqlCommand(VariantFigures, connection, transaction);
        variants.Parameters.AddWithValue("ids", page.Items.Select(e => Guid.Parse(e.Id)).ToArray());
        await using var reader = await variants.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var experiment = byId[reader.GetGuid(0).ToString()];
            experiment.Variants.Add(ReadVariant(reader, experiment.Platform));
        }
        return page;
    }

    private static Experiment ReadExperiment(NpgsqlDataReader reader)
    {
        var experiment = new Experiment
        {
            Id = reader.GetGuid(0).ToString(),
            WorkspaceId = reader.GetGuid(1).ToString(),
            ChannelId = reader.GetGuid(2).ToString(),
            Platform = Vocabulary.ToPlatform(reader.GetString(3)),
            Name = reader.GetString(4),
            Seed = reader.GetInt64(5),
            TestShare = reader.GetDouble(6),
            HoldoutRecipients = { reader.GetFieldValue<string[]>(7) },
            WinnerAfter = Duration.FromTimeSpan(reader.GetTimeSpan(8)),
            FinishTime = Timestamp.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(9)),
            State = reader.IsDBNull(10) ? ExperimentState.Running : ExperimentState.Finished,
            WinnerLabel = reader.IsDBNull(11) ? "" : reader.GetString(11),
            WinnerPostId = reader.IsDBNull(12) ? "" : reader.GetGuid(12).ToString(),
            SampleTooSmall = reader.GetBoolean(13),
            CreateTime = Timestamp.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(14)),
            CreatedBy = reader.GetGuid(15).ToString(),
        };
        if (!reader.IsDBNull(10))
        {
            experiment.FinishedTime = Timestamp.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(10));
        }
        return experiment;
    }

    /// <summary>
    /// Each variant's post and figures: WhatsApp counted per recipient (a post with media sends several messages to
    /// each) from delivery_statuses; Instagram from the post's latest insights snapshot.
    /// </summary>
    private const string VariantFigures = """
        select v.experiment_id, v.label, p.id, p.status, p.publish_at, coalesce(p.recipients, '{}'),
               coalesce(w.sent, 0), coalesce(w.delivered, 0), coalesce(w.read, 0), coalesce(w.failed, 0),
               coalesce(i.reach, 0)::bigint, coalesce(i.likes, 0)::bigint, coalesce(i.comments, 0)::bigint, coalesce(i.shares, 0)::bigint,
               coalesce(i.saved, 0)::bigint, coalesce(i.total_interactions, 0)::bigint, coalesce(i.views, 0)::bigint
        from experiment_variants v
        join scheduled_posts p on p.id = v.post_id
        left join lateral (
            select count(distinct d.recipient_id) filter (where d.sent_at is not null or d.delivered_at is not null or d.read_at is not null) as sent,
                   count(distinct d.recipient_id) filter (where d.delivered_at is not null or d.read_at is not null) as delivered,
                   count(distinct d.recipient_id) filter (where d.read_at is not null) as read,
                   count(distinct d.recipient_id) filter (where d.failed_at is not null) as failed
            from delivery_statuses d where d.post_id = p.id) w on true
        left join lateral (
            select sum(s.value) filter (where s.metric = 'reach') as reach, sum(s.value) filter (where s.metric = 'likes') as likes,
                   sum(s.value) filter (where s.metric = 'comments') as comments, sum(s.value) filter (where s.metric = 'shares') as shares,
                   sum(s.value) filter (where s.metric = 'saved') as saved,
                   sum(s.value) filter (where s.metric = 'total_interactions') as total_interactions,
                   sum(s.value) filter (where s.metric = 'views') as views
            from engagement_snapshots s
            where s.post_id = p.id and s.snapshot = (select max(x.snapshot) from engagement_snapshots x where x.post_id = p.id)) i on true
        where v.experiment_id = any(@ids)
        order by v.experiment_id, v.label
        """;

    private static ExperimentVariant ReadVariant(NpgsqlDataReader reader, Platform platform)
    {
        var recipients = reader.GetFieldValue<string[]>(5);
        var variant = new ExperimentVariant
        {
            Label = reader.GetString(1),
            PostId = reader.GetGuid(2).ToString(),
            Status = Vocabulary.ToPostStatus(reader.GetString(3)),
            PublishAt = Timestamp.FromDateTimeOffset(reader.GetFieldValue<DateTimeOffset>(4)),
            Recipients = { recipients },
            Sent = reader.GetInt64(6),
            Delivered = reader.GetInt64(7),
            Read = reader.GetInt64(8),
            Failed = reader.GetInt64(9),
            Reach = reader.GetInt64(10),
            Likes = reader.GetInt64(11),
            Comments = reader.GetInt64(12),
            Shares = reader.GetInt64(13),
            Saved = reader.GetInt64(14),
            TotalInteractions = reader.GetInt64(15),
            Views = reader.GetInt64(16),
        };
        variant.SampleSize = platform == Platform.Whatsapp ? recipients.Length : variant.Reach;
        variant.ReadRate = platform == Platform.Whatsapp ? ExperimentRules.Rate(variant.Read, variant.SampleSize) : 0;
        variant.EngagementRate = platform == Platform.Instagram ? ExperimentRules.Rate(variant.TotalInteractions, variant.Reach) : 0;
        return variant;
    }
}
