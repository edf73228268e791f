using System.Globalization;
using CsvHelper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// The CSV format posts are imported and exported in (docs/planning.md, "CSV import and export"): a header row
/// naming <see cref="Columns"/> (any order; every column but <c>template</c>, <c>variables</c> and <c>whatsapp_template</c> required), then one post per row. Read
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
    /// <summary>The id of the template a row's content is made from (docs/planning.md, "Templates").</summary>
    public const string Template = "template";
    /// <summary>The values of the template's variables: a JSON object of names to values.</summary>
    public const string Variables = "variables";
    /// <summary>A post's own WhatsApp message template (content.whatsapp_template) in the API's JSON form.</summary>
    public const string WhatsAppTemplate = "whatsapp_template";

    public static readonly string[] Columns = [ChannelId, PublishAt, TimeZone, Text, Media, Recipients, Rrule, Template, Variables, WhatsAppTemplate];

    /// <summary>Columns a file may leave out: files written before templates existed have none of them.</summary>
    private static readonly string[] Optional = [Template, Variables, WhatsAppTemplate];

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
        foreach (var missing in Columns.Where(c => !Optional.Contains(c) && !columnOf.ContainsKey(c)))
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
                row.CellViolations.Add(Media, $"'{item}' is not type:url (type image, video, document, audio or sticker)");
                continue;
            }
            request.Content.Media.Add(new Posts.V1.Media { Type = type, Url = item[(colon + 1)..] });
        }
        request.Recipients.Add(Cell(Recipients).Split(ListSeparators, StringSplitOptions.RemoveEmptyEntries));
        ReadTemplate(row, Cell(Template).Trim(), Cell(Variables).Trim());
        ReadWhatsAppTemplate(row, Cell(WhatsAppTemplate).Trim());
        return row;
    }

    /// <summary>A post's own WhatsApp message template, written as the API's JSON for <c>content.whatsapp_template</c>.</summary>
    private static void ReadWhatsAppTemplate(CsvPostRow row, string json)
    {
        if (json.Length == 0)
        {
            return;
        }
        if (row.NamesTemplate)
        {
            row.CellViolations.Add(WhatsAppTemplate, "is given by the template: leave it empty in a row with a template");
            return;
        }
        try
        {
            row.Request.Content.WhatsappTemplate = JsonParser.Default.Parse<WhatsAppTemplate>(json);
        }
        catch (Exception ex) when (ex is InvalidJsonException or InvalidProtocolBufferException or FormatException)
        {
            row.CellViolations.Add(WhatsAppTemplate, """must be a WhatsApp message template as JSON, e.g. {"name":"spring_sale","language":"en_US"}""");
        }
    }

    /// <summary>
    /// A row's template and its variables' values. A template cell that is not an id is the row's only template
    /// problem reported; a row made from a template takes its text and media from it, so it leaves them empty.
    /// </summary>
    private static void ReadTemplate(CsvPostRow row, string template, string variables)
    {
        if (template.Length == 0)
        {
            if (variables.Length > 0)
            {
                row.CellViolations.Add(Variables, "needs a template: leave it empty for a post without one");
            }
            return;
        }
        row.NamesTemplate = true;
        if (!Guid.TryParse(template, out var templateId))
        {
            row.CellViolations.Add(Template, "must be a template's id (a UUID)");
            return;
        }
        row.TemplateId = templateId;
        if (row.Request.Content.Text.Length > 0 || row.Request.Content.Media.Count > 0)
        {
            row.CellViolations.Add(Text, "is given by the template: leave text and media empty in a row with a template");
        }
        if (variables.Length == 0)
        {
            return;
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(variables);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new System.Text.Json.JsonException();
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                row.Variables[property.Name] = property.Value.ValueKind == System.Text.Json.JsonValueKind.String
                    ? property.Value.GetString()!
                    : property.Value.GetRawText();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            row.CellViolations.Add(Variables, """must be a JSON object of variable names to values, e.g. {"first_name":"Ana","date":"2026-12-24"}""");
        }
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
        "audio" => MediaType.Audio,
        "sticker" => MediaType.Sticker,
        _ => MediaType.Unspecified,
    };

    /// <summary>
    /// The column a create request's field (as <c>PostRequests.ParseCreate</c> and <c>NewPost.CheckChannel</c> name
    /// it, e.g. "content.media[1].url") is read from.
    /// </summary>
    public static string ColumnOf(string field) => field switch
    {
        _ when field.StartsWith("content.media", StringComparison.Ordinal) => Media,
        _ when field.StartsWith("content.whatsapp_template", StringComparison.Ordinal) => WhatsAppTemplate,
        _ when field.StartsWith("content", StringComparison.Ordinal) => Text,
        _ when field.StartsWith("recipients", StringComparison.Ordinal) => Recipients,
        _ when field.StartsWith("publish_at", StringComparison.Ordinal) => PublishAt,
        _ when field.StartsWith("time_zone", StringComparison.Ordinal) => TimeZone,
        _ when field.StartsWith("rrule", StringComparison.Ordinal) => Rrule,
        _ when field.StartsWith("channel_id", StringComparison.Ordinal) => ChannelId,
        _ when field.StartsWith(Variables, StringComparison.Ordinal) => Variables,
        _ when field.StartsWith(Template, StringComparison.Ordinal) => Template,
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
}
