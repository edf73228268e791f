using System.Globalization;
using CsvHelper;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>Writes posts in the format <see cref="PostCsv"/> reads, so an export imports back as the same posts.</summary>
public static class PostCsvWriter
{
    /// <summary>
    /// The columns an export writes: a post keeps the content its template gave it, not the template, so the
    /// template cell is always empty and the variables column is left out (files keep the shape they had before templates).
    /// </summary>
    private static readonly string[] ExportColumns = [.. PostCsv.Columns.Except([PostCsv.Variables])];

    /// <summary>Writes <paramref name="posts"/> in the import format, with the header, in <see cref="ExportColumns"/> order.</summary>
    public static byte[] Write(IEnumerable<ScheduledPost> posts)
    {
        using var buffer = new MemoryStream();
        // Texts are written as they are: a post's text or a recipient may start with + or -, which the
        // spreadsheet-formula guard would change, and the file must read back as the same posts.
        using (var csv = CsvWriter.Create(buffer, new CsvWriterOptions { NewLine = "\n", Injection = CsvInjection.None }, leaveOpen: true))
        {
            csv.WriteRecord(ExportColumns);
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
                    post.Content?.WhatsappTemplate is { } template ? JsonFormatter.Default.Format(template) : "",
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

    private static string MediaWord(MediaType type) => type switch
    {
        MediaType.Image => "image",
        MediaType.Video => "video",
        MediaType.Document => "document",
        MediaType.Audio => "audio",
        MediaType.Sticker => "sticker",
        _ => "unspecified",
    };
}
