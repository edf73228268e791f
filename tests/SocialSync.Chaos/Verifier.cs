using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SocialSync.Testing;

namespace SocialSync.Chaos;

public sealed record PostRow(Guid Id, string Marker, string Status, string Error, DateTimeOffset PublishAt, string PlatformPostId, string Platform, int RetryCount);

public sealed record PlatformEffect(string Marker, DateTimeOffset Time, string Account, string Kind);

/// <summary>What a run proved, computed only from PostgreSQL (the posts) and the emulator (what reached the platform).</summary>
public sealed class ChaosVerdict
{
    public static readonly string[] FinalStatuses = ["published", "failed", "cancelled", "missed", "unconfirmed"];

    public required IReadOnlyList<PostRow> Posts { get; init; }
    public required IReadOnlyDictionary<string, List<PlatformEffect>> EffectsByMarker { get; init; }
    public required IReadOnlyList<PlatformEffect> AllEffects { get; init; }

    public List<string> Lost { get; } = [];
    public List<string> Duplicates { get; } = [];
    public List<string> Early { get; } = [];
    public List<string> CancelledButPublished { get; } = [];
    public List<string> WithoutReason { get; } = [];
    public List<string> UnknownEffects { get; } = [];
    public List<string> SentButFailed { get; } = [];
    public List<TimeSpan> Lateness { get; } = [];

    /// <summary>The duplicated posts, whose attempts the report lists to show how a second send came about.</summary>
    public List<Guid> DuplicatedIds { get; } = [];

    /// <summary>Each listed duplicated post's attempts (post_runs), one line each; filled by <see cref="LoadRunsAsync"/>.</summary>
    public Dictionary<Guid, List<string>> RunsOfDuplicates { get; } = [];

    public bool Passed => Lost.Count + Duplicates.Count + Early.Count + CancelledButPublished.Count + WithoutReason.Count + UnknownEffects.Count == 0;

    public static ChaosVerdict Judge(IReadOnlyList<PostRow> posts, IReadOnlyList<PlatformEffect> effects)
    {
        var byMarker = effects.GroupBy(e => e.Marker).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Time).ToList());
        var verdict = new ChaosVerdict { Posts = posts, EffectsByMarker = byMarker, AllEffects = effects };
        var known = posts.Select(p => p.Marker).ToHashSet();
        foreach (var post in posts)
        {
            var sent = byMarker.TryGetValue(post.Marker, out var list) ? list : [];
            var final = FinalStatuses.Contains(post.Status);
            if (!final)
            {
                verdict.Lost.Add($"{post.Marker} ({post.Id}) still {post.Status}");
            }
            else if (post.Status == "published" && sent.Count == 0)
            {
                verdict.Lost.Add($"{post.Marker} ({post.Id}) is published in PostgreSQL but never reached the platform");
            }
            if (sent.Count > 1)
            {
                var times = string.Join(", ", sent.Select(e => $"{(e.Time - post.PublishAt).TotalSeconds:+0.0;-0.0} s ({e.Kind})"));
                verdict.Duplicates.Add($"{post.Marker} ({post.Id}, {post.Platform}, {post.Status}) reached the platform {sent.Count} times, after publish_at: {times}");
                verdict.DuplicatedIds.Add(post.Id);
            }
            if (sent.Count > 0 && sent[0].Time < post.PublishAt)
            {
                verdict.Early.Add($"{post.Marker} ({post.Id}) reached the platform at {sent[0].Time:O}, before its publish_at {post.PublishAt:O}");
            }
            if (post.Status == "cancelled" && sent.Count > 0)
            {
                verdict.CancelledButPublished.Add($"{post.Marker} ({post.Id}) is cancelled but reached the platform");
            }
            if (post.Status is "failed" or "missed" or "unconfirmed" && string.IsNullOrWhiteSpace(post.Error)
                || post.Status == "published" && string.IsNullOrWhiteSpace(post.PlatformPostId))
            {
                verdict.WithoutReason.Add($"{post.Marker} ({post.Id}) is {post.Status} without a reason");
            }
            if (post.Status == "failed" && sent.Count > 0)
            {
                verdict.SentButFailed.Add($"{post.Marker} ({post.Id}) failed ({post.Error}) after reaching the platform");
            }
            if (post.Status == "published" && sent.Count > 0)
            {
                verdict.Lateness.Add(sent[0].Time - post.PublishAt);
            }
        }
        foreach (var marker in byMarker.Keys.Where(m => !known.Contains(m)))
        {
            verdict.UnknownEffects.Add($"{marker} reached the platform but no such post exists");
        }
        verdict.Lateness.Sort();
        return verdict;
    }

    public TimeSpan LatenessPercentile(double p) =>
        Lateness.Count == 0 ? TimeSpan.Zero : Lateness[Math.Clamp((int)Math.Ceiling(p * Lateness.Count) - 1, 0, Lateness.Count - 1)];

    /// <summary>Loads the run's posts (by marker) from PostgreSQL and the run's effects from the emulator.</summary>
    public static async Task<(List<PostRow> Posts, List<PlatformEffect> Effects)> CollectAsync(SocialSyncSystem system, string runTag, CancellationToken cancellationToken)
    {
        var posts = await LoadPostsAsync(system.PostsConnectionString, runTag, cancellationToken);
        var marker = MarkerPattern(runTag);
        var effects = new List<PlatformEffect>();
        foreach (var effect in await system.Emulator.EffectsAsync())
        {
            var text = Text(effect, "text") + " " + Text(effect, "caption");
            var match = marker.Match(text);
            if (match.Success)
            {
                effects.Add(new PlatformEffect(match.Value, effect.GetProperty("time").GetDateTimeOffset(), Text(effect, "account"), Text(effect, "kind")));
            }
        }
        return (posts, effects);
    }

    public static async Task<List<PostRow>> LoadPostsAsync(string connectionString, string runTag, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var query = new NpgsqlCommand("""
            select id, substring(content_json->>'text' from @pattern), status, coalesce(error_message, ''), publish_at,
                   coalesce(platform_post_id, ''), platform, retry_count
            from scheduled_posts where content_json->>'text' ~ @pattern
            """, connection);
        query.Parameters.AddWithValue("pattern", MarkerPattern(runTag).ToString());
        var rows = new List<PostRow>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new PostRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetString(5), reader.GetString(6), reader.GetInt32(7)));
        }
        return rows;
    }

    /// <summary>Loads the attempts of up to <paramref name="max"/> duplicated posts into <see cref="RunsOfDuplicates"/>.</summary>
    public async Task LoadRunsAsync(string connectionString, int max, CancellationToken cancellationToken)
    {
        if (DuplicatedIds.Count == 0)
        {
            return;
        }
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var query = new NpgsqlCommand("""
            select r.scheduled_post_id, r.attempt, r.status, r.started_at - p.publish_at, r.finished_at - p.publish_at,
                   coalesce(r.error_class, ''), coalesce(r.error, '')
            from post_runs r join scheduled_posts p on p.id = r.scheduled_post_id
            where r.scheduled_post_id = any(@ids) order by r.scheduled_post_id, r.started_at
            """, connection);
        query.Parameters.AddWithValue("ids", DuplicatedIds.Take(max).ToArray());
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var finished = reader.IsDBNull(4) ? "open" : $"{reader.GetTimeSpan(4).TotalSeconds:+0.0;-0.0} s";
            var line = $"attempt {reader.GetInt32(1)}: {reader.GetString(2)}, {reader.GetTimeSpan(3).TotalSeconds:+0.0;-0.0} s → {finished} {reader.GetString(5)} {reader.GetString(6)}".TrimEnd();
            var id = reader.GetGuid(0);
            if (!RunsOfDuplicates.TryGetValue(id, out var lines))
            {
                RunsOfDuplicates[id] = lines = [];
            }
            lines.Add(line);
        }
    }

    public static Regex MarkerPattern(string runTag) => new($"chaos-{Regex.Escape(runTag)}-[0-9]{{5}}", RegexOptions.CultureInvariant);

    private static string Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";
}
