using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using SocialSync.Contracts;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>
/// A post's content as stored in content_json: {"text": "...", "media": [{"type": "image", "url": "..."}]}, and a
/// post's own WhatsApp message template, when it has one, as its protobuf JSON under "whatsapp_template".
/// </summary>
public sealed record ContentJson(
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("media")] IReadOnlyList<MediaJson> Media)
{
    [JsonPropertyName("whatsapp_template")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? WhatsAppTemplate { get; init; }

    public static string Serialize(Content content) => JsonSerializer.Serialize(new ContentJson(
        content.Text,
        content.Media.Select(m => new MediaJson(m.Type.ToString().ToLowerInvariant(), m.Url)).ToList())
    {
        WhatsAppTemplate = content.WhatsappTemplate is { } template
            ? JsonDocument.Parse(Google.Protobuf.JsonFormatter.Default.Format(template)).RootElement
            : null,
    });

    public static Content Deserialize(string json)
    {
        var parsed = JsonSerializer.Deserialize<ContentJson>(json)!;
        var content = new Content { Text = parsed.Text ?? "" };
        foreach (var media in parsed.Media ?? [])
        {
            content.Media.Add(new Media
            {
                Type = System.Enum.TryParse<MediaType>(media.Type, ignoreCase: true, out var type) ? type : MediaType.Unspecified,
                Url = media.Url,
            });
        }
        if (parsed.WhatsAppTemplate is { ValueKind: JsonValueKind.Object } template)
        {
            content.WhatsappTemplate = Google.Protobuf.JsonParser.Default.Parse<WhatsAppTemplate>(template.GetRawText());
        }
        return content;
    }
}

public sealed record MediaJson([property: JsonPropertyName("type")] string Type, [property: JsonPropertyName("url")] string Url);

/// <summary>Column list and reader for scheduled_posts, shared by every query that returns posts.</summary>
public static class PostRows
{
    public const string Columns = """
        id, channel_id, platform, content_json::text, publish_at, time_zone, rrule, status, platform_post_id,
        error_message, retry_count, created_at, updated_at, published_at, permalink, version,
        coalesce(series_id, case when rrule is not null then id end), recipients, workspace_id,
        user_id, needs_approval, approved_by, review_comment
        """;

    /// <summary>How many columns <see cref="Columns"/> selects; extra columns of a query start here.</summary>
    public const int ColumnCount = 23;

    public static ScheduledPost Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0).ToString(),
        ChannelId = reader.GetGuid(1).ToString(),
        Platform = Vocabulary.ToPlatform(reader.GetString(2)),
        Content = ContentJson.Deserialize(reader.GetString(3)),
        PublishAt = Timestamp.FromDateTime(reader.GetDateTime(4)),
        TimeZone = reader.IsDBNull(5) ? "" : reader.GetString(5),
        Rrule = reader.IsDBNull(6) ? "" : reader.GetString(6),
        Status = Vocabulary.ToPostStatus(reader.GetString(7)),
        PlatformPostId = reader.IsDBNull(8) ? "" : reader.GetString(8),
        ErrorMessage = reader.IsDBNull(9) ? "" : reader.GetString(9),
        RetryCount = reader.GetInt32(10),
        CreatedAt = Timestamp.FromDateTime(reader.GetDateTime(11)),
        UpdatedAt = Timestamp.FromDateTime(reader.GetDateTime(12)),
        PublishedAt = reader.IsDBNull(13) ? null : Timestamp.FromDateTime(reader.GetDateTime(13)),
        Permalink = reader.IsDBNull(14) ? "" : reader.GetString(14),
        Etag = reader.GetInt32(15).ToString(System.Globalization.CultureInfo.InvariantCulture),
        SeriesId = reader.IsDBNull(16) ? "" : reader.GetGuid(16).ToString(),
        Recipients = { reader.IsDBNull(17) ? [] : reader.GetFieldValue<string[]>(17) },
        WorkspaceId = reader.GetGuid(18).ToString(),
        AuthorId = reader.GetGuid(19).ToString(),
        NeedsApproval = reader.GetBoolean(20),
        ApprovedBy = reader.IsDBNull(21) ? "" : reader.GetGuid(21).ToString(),
        ReviewComment = reader.IsDBNull(22) ? "" : reader.GetString(22),
    };

    /// <summary>The one post <paramref name="command"/> returns, if any.</summary>
    public static async Task<ScheduledPost?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>A post's status and version, or null when there is no such post (visible to the transaction).</summary>
    public static async Task<(PostStatus Status, int Version)?> ReadStatusAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand("select status, version from scheduled_posts where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (Vocabulary.ToPostStatus(reader.GetString(0)), reader.GetInt32(1)) : null;
    }
}

/// <summary>Column list and reader for channels (never the token).</summary>
public static class ChannelRows
{
    public const string Columns =
        "id, platform, account_id, display_name, settings::text, state, state_reason, created_at, updated_at, version, token_expires_at, token_expiring_reason, " +
        "workspace_id";

    /// <summary>How many columns <see cref="Columns"/> selects; extra columns of a query start here.</summary>
    public const int ColumnCount = 13;

    private static readonly Google.Protobuf.JsonParser Parser = new(Google.Protobuf.JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static Channel Read(NpgsqlDataReader reader)
    {
        var channel = new Channel
        {
            Id = reader.GetGuid(0).ToString(),
            Platform = Vocabulary.ToPlatform(reader.GetString(1)),
            AccountId = reader.GetString(2),
            DisplayName = reader.GetString(3),
            Settings = ReadSettings(reader.GetString(4)),
            State = Vocabulary.ToChannelState(reader.GetString(5)),
            StateReason = reader.IsDBNull(6) ? "" : reader.GetString(6),
            CreatedAt = Timestamp.FromDateTime(reader.GetDateTime(7)),
            UpdatedAt = Timestamp.FromDateTime(reader.GetDateTime(8)),
            Etag = reader.GetInt32(9).ToString(System.Globalization.CultureInfo.InvariantCulture),
            AccessTokenExpireTime = reader.IsDBNull(10) ? null : Timestamp.FromDateTime(reader.GetDateTime(10)),
            WorkspaceId = reader.GetGuid(12).ToString(),
        };
        // An expiring token is news only on a channel that otherwise publishes: paused or needs_reconnect say more.
        if (channel.State == ChannelState.Active && !reader.IsDBNull(11))
        {
            (channel.State, channel.StateReason) = (ChannelState.Expiring, reader.GetString(11));
        }
        return channel;
    }

    /// <summary>
    /// A channel that has not been deleted, or null. <paramref name="lockForShare"/> holds it until commit, so a
    /// concurrent DeleteChannel cannot miss a post queued on it (it waits, then cancels that post too).
    /// </summary>
    public static async Task<Channel?> LoadLiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id,
        CancellationToken cancellationToken, bool lockForShare = false)
    {
        await using var query = new NpgsqlCommand(lockForShare ? SelectLiveForShare : SelectLive, connection, transaction);
        query.Parameters.AddWithValue("id", id);
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private const string SelectLive = $"select {Columns} from channels where id = @id and deleted_at is null";
    private const string SelectLiveForShare = SelectLive + " for share";

    /// <summary>The database word of a channel state.</summary>
    public static string StateWord(ChannelState state) => state switch
    {
        ChannelState.Paused => "paused",
        ChannelState.NeedsReconnect => "needs_reconnect",
        _ => "active",
    };

    public static ChannelSettings ReadSettings(string json) => Parser.Parse<ChannelSettings>(json);

    public static string WriteSettings(ChannelSettings? settings) =>
        Google.Protobuf.JsonFormatter.Default.Format(settings ?? new ChannelSettings());
}

/// <summary>Column list and reader for post_runs.</summary>
public static class RunRows
{
    public const string Columns = "id, scheduled_post_id, attempt, started_at, finished_at, status, error, error_code, error_class, created_at";

    public static PostRun Read(NpgsqlDataReader reader) => new()
    {
        Id = reader.GetGuid(0).ToString(),
        ScheduledPostId = reader.GetGuid(1).ToString(),
        Attempt = reader.GetInt32(2),
        StartedAt = Timestamp.FromDateTime(reader.GetDateTime(3)),
        FinishedAt = reader.IsDBNull(4) ? null : Timestamp.FromDateTime(reader.GetDateTime(4)),
        Status = reader.GetString(5),
        Error = reader.IsDBNull(6) ? "" : reader.GetString(6),
        ErrorCode = reader.IsDBNull(7) ? 0 : reader.GetInt32(7),
        ErrorClass = reader.IsDBNull(8) ? "" : reader.GetString(8),
        CreatedAt = Timestamp.FromDateTime(reader.GetDateTime(9)),
    };
}
