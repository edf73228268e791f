using System.Globalization;
using CsvHelper;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>One data row of an import file: the create it asks for, where it sits in the file, and what is wrong with its cells.</summary>
public sealed record CsvPostRow(int Index, int Line, CreatePostRequest Request)
{
    /// <summary>The row's bad cells, named by column (e.g. "publish_at"), found while reading the file.</summary>
    public FieldViolations CellViolations { get; } = new();
}

/// <summary>
/// The CSV format posts are imported and exported in (docs/planning.md, "CSV import and export"): a header row
/// naming <see cref="Columns"/> (any order; every column but <c>template</c> required), then one post per row. Read
/// and written with CsvHelper, so quoting, embedded commas and line breaks in a text follow RFC 4180.
/// </summary>
public static class PostCsv
{
    public const int MaxRows = 10_000;

    public const string ChannelId = "channel_id";
    public const string PublishAt = "publish_at";
    public const string TimeZone = "time_zone";
    public const string Text = "text";
    public const string Media = "media";
    public const string Recipients = "recipients";
    public const string Rrule = "rrule";
    /// <summary>Reserved for posts made from a template; import refuses a value in it until templates exist.</summary>
    public const string Template = "template";

    public static readonly string[] Columns = [ChannelId, PublishAt, TimeZone, Text, Media, Recipients, Rrule, Template];

    private static readonly char[] ListSeparators = [' ', '\t', '\n', '\r', '|'];

    /// <summary>
    /// Reads <paramref name="file"/> (UTF-8, a byte order mark or not) into its rows. Problems of the file as a whole
    /// (no header, a missing column, too many rows) are added to <paramref name="violations"/> under <c>csv</c>.
    /// </summary>
    public static List<CsvPostRow> Read(ReadOnlyMemory<byte> file, FieldViolations violations)
    {
        var rows = new List<CsvPostRow>();
        var malformedLines = new HashSet<long>();
        using var csv = CsvReader.Create(file, new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            TrimWhitespace = false,
            MissingField = CsvMissingFieldHandling.ReturnEmpty,
            MalformedData = CsvMalformedDataHandling.Recover,
            OnMalformedRecord = record => malformedLines.Add(record.LineNumber),
        });
        csv.ReadHeader();
        var header = csv.Headers.ToArray();
        if (header.Length == 0)
        {
            violations.Add("csv", "is empty: it needs a header row naming the columns");
            return rows;
        }
        var columnOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var c = 0; c < header.Length; c++)
        {
            var name = header[c].Trim().ToLowerInvariant();
            if (!Columns.Contains(name))
            {
                violations.Add("csv", $"line 1, column {c + 1}: '{header[c]}' is not a column ({string.Join(", ", Columns)})");
            }
            else if (!columnOf.TryAdd(name, c))
            {
                violations.Add("csv", $"line 1, column {c + 1}: column '{name}' appears twice");
            }
        }
        foreach (var missing in Columns.Where(c => c != Template && !columnOf.ContainsKey(c)))
        {
            violations.Add("csv", $"line 1: the header lacks column '{missing}'");
        }
        if (violations.Any)
        {
            return rows;
        }

        while (csv.Read())
        {
            if (rows.Count == MaxRows)
            {
                violations.Add("csv", $"holds more than {MaxRows} rows");
                return rows;
            }
            var line = (int)csv.LineNumber;
            var row = ReadRow(csv, rows.Count, line, columnOf);
            if (malformedLines.Contains(line))
            {
                row.CellViolations.Add("csv", "has a stray quote: quote a cell that holds one, doubling the quotes inside it");
            }
            rows.Add(row);
        }
        if (rows.Count == 0)
        {
            violations.Add("csv", "holds no rows after its header");
        }
        return rows;
    }

    private static CsvPostRow ReadRow(CsvReader csv, int index, int line, Dictionary<string, int> columnOf)
    {
        string Cell(string column) => columnOf.TryGetValue(column, out var c) && c < csv.FieldCount ? csv.GetString(c) ?? "" : "";

        var request = new CreatePostRequest
        {
            ChannelId = Cell(ChannelId).Trim(),
            TimeZone = Cell(TimeZone).Trim(),
            Rrule = Cell(Rrule).Trim(),
            Content = new Content { Text = Cell(Text) },
        };
        var row = new CsvPostRow(index, line, request);
        var publishAt = Cell(PublishAt).Trim();
        if (ParsePublishAt(publishAt) is { } instant)
        {
            request.PublishAt = Timestamp.FromDateTimeOffset(instant);
        }
        else if (publishAt.Length > 0)
        {
            row.CellViolations.Add(PublishAt, "is not an ISO 8601 time with its offset (e.g. 2026-12-24T09:00:00+01:00 or ...Z)");
        }
        foreach (var item in Cell(Media).Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = item.IndexOf(':');
            var type = colon > 0 ? ParseMediaType(item[..colon]) : MediaType.Unspecified;
            if (type == MediaType.Unspecified)
            {
                row.CellViolations.Add(Media, $"'{item}' is not type:url (type image, video or document)");
                continue;
            }
            request.Content.Media.Add(new Posts.V1.Media { Type = type, Url = item[(colon + 1)..] });
        }
        request.Recipients.Add(Cell(Recipients).Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries));
        if (Cell(Template).Trim().Length > 0)
        {
            row.CellViolations.Add(Template, "is reserved for posts made from templates, which import does not take yet: leave it empty");
        }
        return row;
    }

    /// <summary>An ISO 8601 time that carries its offset or Z; a time without one is refused rather than guessed.</summary>
    private static DateTimeOffset? ParsePublishAt(string value) =>
        value.Length > 10 && (value.EndsWith('Z') || value.EndsWith('z') || value[^6] is '+' or '-')
        && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            ? instant
            : null;

    private static MediaType ParseMediaType(string word) => word.ToLowerInvariant() switch
    {
        "image" => MediaType.Image,
        "video" => MediaType.Video,
        "document" => MediaType.Document,
        _ => MediaType.Unspecified,
    };

    private static string MediaWord(MediaType type) => type switch
    {
        MediaType.Image => "image",
        MediaType.Video => "video",
        MediaType.Document => "document",
        _ => "unspecified",
    };

    /// <summary>
    /// The column a create request's field (as <c>PostRequests.ParseCreate</c> and <c>NewPost.CheckChannel</c> name
    /// it, e.g. "content.media[1].url") is read from.
    /// </summary>
    public static string ColumnOf(string field) => field switch
    {
        _ when field.StartsWith("content.media", StringComparison.Ordinal) => Media,
        _ when field.StartsWith("content", StringComparison.Ordinal) => Text,
        _ when field.StartsWith("recipients", StringComparison.Ordinal) => Recipients,
        _ when field.StartsWith("publish_at", StringComparison.Ordinal) => PublishAt,
        _ when field.StartsWith("time_zone", StringComparison.Ordinal) => TimeZone,
        _ when field.StartsWith("rrule", StringComparison.Ordinal) => Rrule,
        _ when field.StartsWith("channel_id", StringComparison.Ordinal) => ChannelId,
        _ => field,
    };

    /// <summary>
    /// Adds a row's problem to <paramref name="violations"/> as <c>rows[i].column</c>, its description naming the
    /// file's line and the column's position in <see cref="Columns"/> order (1-based, as a spreadsheet counts).
    /// </summary>
    public static void AddRowViolation(FieldViolations violations, CsvPostRow row, string field, string description)
    {
        var column = ColumnOf(field);
        var position = Array.IndexOf(Columns, column) + 1;
        var where = position > 0 ? $"line {row.Line}, column {position} ({column})" : $"line {row.Line}";
        var detail = field == column ? description : $"{field} {description}";
        violations.Add($"rows[{row.Index}].{column}", $"{where}: {detail}");
    }

    /// <summary>Writes <paramref name="posts"/> in the import format, with the header, in <see cref="Columns"/> order.</summary>
    public static byte[] Write(IEnumerable<ScheduledPost> posts)
    {
        using var buffer = new MemoryStream();
        // Texts are written as they are: a post's text or a recipient may start with + or -, which the
        // spreadsheet-formula guard would change, and the file must read back as the same posts.
        using (var csv = CsvWriter.Create(buffer, new CsvWriterOptions { NewLine = "\n", Injection = CsvInjection.None }, leaveOpen: true))
        {
            csv.WriteRecord(Columns);
            foreach (var post in posts)
            {
                csv.WriteRecord(
                [
                    post.ChannelId,
                    FormatPublishAt(post.PublishAt.ToDateTimeOffset(), post.TimeZone),
                    post.TimeZone,
                    post.Content?.Text ?? "",
                    string.Join(' ', (post.Content?.Media ?? []).Select(m => $"{MediaWord(m.Type)}:{m.Url}")),
                    string.Join(' ', post.Recipients),
                    post.Rrule,
                    "",
                ]);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>The instant as a reader of the post's time zone sees it (its offset then), to the tick, so the import reads the same instant.</summary>
    private static string FormatPublishAt(DateTimeOffset instant, string timeZone)
    {
        if (timeZone.Length > 0 && TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            instant = TimeZoneInfo.ConvertTime(instant, zone);
        }
        return instant.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture).Replace(".+", "+").Replace(".-", "-");
    }
}
