using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SocialSync.SchedulerService.IntegrationTests;

/// <summary>One user with one WhatsApp channel on its own emulator account, so effects can be counted per test.</summary>
public sealed class TestAccount
{
    private TestAccount(SocialSyncSystem system, Guid user, string phoneNumberId, string channelId)
    {
        System = system;
        User = user;
        PhoneNumberId = phoneNumberId;
        ChannelId = channelId;
        Auth = TestTokens.ForUser(user);
    }

    public SocialSyncSystem System { get; }
    public Guid User { get; }
    public string PhoneNumberId { get; }
    public string ChannelId { get; }
    public Metadata Auth { get; }

    public static async Task<TestAccount> CreateAsync(SocialSyncSystem system)
    {
        var user = Guid.NewGuid();
        var phoneNumberId = $"pn{Guid.NewGuid():N}"[..18];
        var channel = await system.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = phoneNumberId,
            AccessToken = "EAAG-scheduler-tests",
            DisplayName = "scheduler tests",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, TestTokens.ForUser(user));
        return new TestAccount(system, user, phoneNumberId, channel.Id);
    }

    public async Task<ScheduledPost> CreatePostAsync(string text, DateTimeOffset publishAt) =>
        await System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = ChannelId,
            Content = new Content { Text = text },
            PublishAt = Timestamp.FromDateTimeOffset(publishAt),
            RequestId = text,
        }, Auth, deadline: DateTime.UtcNow.AddSeconds(60));

    /// <summary>Creates posts concurrently (texts "{prefix}-{i}"); returns them in index order.</summary>
    public async Task<ScheduledPost[]> CreatePostsAsync(string prefix, int count, Func<int, DateTimeOffset> publishAt, int parallelism = 32)
    {
        var created = new ScheduledPost[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (i, _) => created[i] = await CreatePostAsync($"{prefix}-{i}", publishAt(i)));
        return created;
    }

    /// <summary>
    /// Inserts posts straight into PostgreSQL (texts "{prefix}-{i}", all due at <paramref name="due"/>), for bursts
    /// too large to create through the API in time. The insert trigger writes the outbox rows as CreatePost does,
    /// so the scheduler sees exactly what it would see after the API call. Returns the ids in index order. With
    /// <paramref name="spacing"/>, post i is due at <paramref name="due"/> + i × spacing instead.
    /// </summary>
    public async Task<string[]> InsertPostsAsync(string prefix, int count, DateTimeOffset due, TimeSpan spacing = default)
    {
        await using var connection = new NpgsqlConnection(System.PostsConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("""
            insert into scheduled_posts (user_id, workspace_id, channel_id, platform, content_json, publish_at, due_at)
            select @user, (select workspace_id from channels where id = @channel), @channel, 'whatsapp', jsonb_build_object('text', @prefix || '-' || g, 'media', '[]'::jsonb),
                @due + g * @spacing, @due + g * @spacing
            from generate_series(0, @count - 1) g
            returning id, content_json->>'text'
            """, connection);
        insert.Parameters.AddWithValue("user", User);
        insert.Parameters.AddWithValue("channel", Guid.Parse(ChannelId));
        insert.Parameters.AddWithValue("prefix", prefix);
        insert.Parameters.AddWithValue("due", due);
        insert.Parameters.AddWithValue("count", count);
        insert.Parameters.AddWithValue("spacing", spacing);
        var ids = new string[count];
        await using var reader = await insert.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var text = reader.GetString(1);
            ids[int.Parse(text[(prefix.Length + 1)..], CultureInfo.InvariantCulture)] = reader.GetGuid(0).ToString();
        }
        return ids;
    }

    /// <summary>The WhatsApp messages the emulator recorded for this account.</summary>
    public async Task<IReadOnlyList<SentMessage>> SentAsync()
    {
        var effects = await System.Emulator.EffectsAsync(PhoneNumberId);
        return effects.Select(SentMessage.From).ToList();
    }

    public async Task<IReadOnlyList<SentMessage>> WaitForSentAsync(int count, TimeSpan timeout) =>
        await Polling.UntilAsync(SentAsync, sent => sent.Count >= count, timeout, $"{count} messages on {PhoneNumberId}");
}

public sealed record SentMessage(string Text, string Wamid, DateTimeOffset Time)
{
    public static SentMessage From(JsonElement effect) => new(
        effect.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "",
        effect.TryGetProperty("wamid", out var wamid) ? wamid.GetString() ?? "" : "",
        DateTimeOffset.Parse(effect.GetProperty("time").GetString()!, CultureInfo.InvariantCulture));
}

/// <summary>A post as PostgreSQL holds it (the truth the API may not show, e.g. attempt and due_at).</summary>
public sealed record PostRow(Guid Id, string Status, DateTimeOffset PublishAt, DateTimeOffset DueAt, DateTimeOffset? PublishedAt,
    int Attempt, int RetryCount, long? DispatchLateMs, string? Error);

public static class Database
{
    public static async Task<Dictionary<Guid, PostRow>> PostsAsync(SocialSyncSystem system, IEnumerable<string> ids)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""
            select id, status, publish_at, due_at, published_at, attempt, retry_count, dispatch_late_ms, error_message
            from scheduled_posts where id = any(@ids)
            """, connection);
        query.Parameters.AddWithValue("ids", ids.Select(Guid.Parse).ToArray());
        var rows = new Dictionary<Guid, PostRow>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows[reader.GetGuid(0)] = new PostRow(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetFieldValue<DateTimeOffset>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetInt32(5), reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetInt64(7), reader.IsDBNull(8) ? null : reader.GetString(8));
        }
        return rows;
    }

    public static async Task<int> CountAsync(SocialSyncSystem system, IEnumerable<string> ids, string status)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select count(*) from scheduled_posts where id = any(@ids) and status = @status", connection);
        query.Parameters.AddWithValue("ids", ids.Select(Guid.Parse).ToArray());
        query.Parameters.AddWithValue("status", status);
        return (int)(long)(await query.ExecuteScalarAsync())!;
    }

    public static async Task<int> WaitForStatusAsync(SocialSyncSystem system, IReadOnlyCollection<string> ids, string status, TimeSpan timeout) =>
        await Polling.UntilAsync(() => CountAsync(system, ids, status), n => n == ids.Count, timeout, $"{ids.Count} posts {status}");

    /// <summary>
    /// Moves a queued post as UpdatePost's move does (publish_at and due_at together, only while queued); true when
    /// it moved. Direct SQL, without the API's etag round trip, so that hundreds of moves can race one due time.
    /// </summary>
    public static async Task<bool> MoveAsync(SocialSyncSystem system, string id, DateTimeOffset to)
    {
        await using var connection = await MoveConnections(system).OpenConnectionAsync();
        await using var move = new NpgsqlCommand(
            "update scheduled_posts set publish_at = @to, due_at = @to where id = @id and status = 'queued'", connection);
        move.Parameters.AddWithValue("id", Guid.Parse(id));
        move.Parameters.AddWithValue("to", to);
        return await move.ExecuteNonQueryAsync() == 1;
    }

    /// <summary>
    /// Opens the move race's connections ahead of it. The race fires up to 200 moves within 1.5 s; each opening a new
    /// PostgreSQL backend (a process and a password exchange) took seconds on a loaded CI machine, so every move came
    /// after dispatch. Opened here and pooled, a move at its moment is only its UPDATE.
    /// </summary>
    public static async Task WarmMoveConnectionsAsync(SocialSyncSystem system)
    {
        var source = MoveConnections(system);
        var opened = await Task.WhenAll(Enumerable.Range(0, MoveConnectionCount).Select(_ => source.OpenConnectionAsync().AsTask()));
        foreach (var connection in opened)
        {
            await connection.DisposeAsync();
        }
    }

    private const int MoveConnectionCount = 20;
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> MoveSources = new();

    private static NpgsqlDataSource MoveConnections(SocialSyncSystem system) =>
        MoveSources.GetOrAdd(system.PostsConnectionString, connectionString => NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 60, MaxPoolSize = MoveConnectionCount }.ConnectionString));

    /// <summary>Moves every listed queued post to one time in a single statement; returns how many moved.</summary>
    public static async Task<int> MoveAllAsync(SocialSyncSystem system, IEnumerable<string> ids, DateTimeOffset to)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var move = new NpgsqlCommand(
            "update scheduled_posts set publish_at = @to, due_at = @to where id = any(@ids) and status = 'queued'", connection);
        move.Parameters.AddWithValue("ids", ids.Select(Guid.Parse).ToArray());
        move.Parameters.AddWithValue("to", to);
        return await move.ExecuteNonQueryAsync();
    }
}

/// <summary>Per-message checks shared by the tests: each text sent exactly once, never before its time.</summary>
public static class Sends
{
    public static Dictionary<string, List<SentMessage>> ByText(IEnumerable<SentMessage> sent)
    {
        var byText = new ConcurrentDictionary<string, List<SentMessage>>();
        foreach (var message in sent)
        {
            byText.GetOrAdd(message.Text, _ => []).Add(message);
        }
        return new Dictionary<string, List<SentMessage>>(byText);
    }

    public static void AssertExactlyOnce(IReadOnlyList<SentMessage> sent, IEnumerable<string> texts)
    {
        var byText = ByText(sent);
        var expected = texts.ToList();
        var duplicated = byText.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key).ToList();
        Assert.True(duplicated.Count == 0, $"sent more than once: {string.Join(", ", duplicated.Take(10))}");
        var missing = expected.Where(t => !byText.ContainsKey(t)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} never sent, e.g. {string.Join(", ", missing.Take(10))}");
        Assert.Equal(expected.Count, sent.Count);
        Assert.Equal(sent.Count, sent.Select(m => m.Wamid).Distinct().Count());
    }
}

/// <summary>A [Fact] that runs only when SOCIALSYNC_BENCH=1 (long measurements, not for every CI run).</summary>
public sealed class BenchmarkFactAttribute : FactAttribute
{
    public BenchmarkFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SOCIALSYNC_BENCH") != "1")
        {
            Skip = "A measurement: set SOCIALSYNC_BENCH=1 to run it.";
        }
    }
}
