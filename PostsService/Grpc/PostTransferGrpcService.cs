using System.Security.Cryptography;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Background;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Bulk CSV import and export of posts (<see cref="PostCsv"/>). An import is checked whole before anything is
/// written, row by row with the checks of CreatePost (<see cref="PostRequests.ParseCreate"/>, then
/// <see cref="NewPost.CheckChannel"/> on the caller's channels), and then written by <see cref="PostImporter"/>.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class PostTransferGrpcService(PostTransferStore store, TemplateStore templates, PostImporter importer, PostMediaChecks media,
    TimeProvider time)
    : PostTransferService.PostTransferServiceBase
{
    public override async Task<ImportOperation> ImportPosts(ImportPostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var now = time.GetUtcNow();
        var violations = new FieldViolations();
        if (request.Csv.IsEmpty)
        {
            violations.Add("csv", "is required");
        }
        var rows = request.Csv.IsEmpty ? [] : PostCsv.Read(request.Csv.Memory, violations);
        violations.ThrowIfAny();
        await RenderTemplatesAsync(userId, rows, context.CancellationToken);

        var fileHash = SHA256.HashData(request.Csv.Span);
        // The file's hash and the row make each row's request_id (AIP-155), so a file sent again creates nothing new.
        var requestIdBase = "import-" + Convert.ToBase64String(fileHash).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var parsed = new List<NewPost>(rows.Count);
        var checkable = new List<(CsvPostRow Row, NewPost Post)>(rows.Count);
        foreach (var row in rows)
        {
            row.Request.RequestId = $"{requestIdBase}-{row.Index}";
            var rowViolations = new FieldViolations();
            var post = PostRequests.ParseCreate(row.Request, "", now, rowViolations);
            var badColumns = row.CellViolations.All.Select(v => PostCsv.ColumnOf(v.Field)).ToHashSet();
            if (row.NamesTemplate && row.CellViolations.Any)
            {
                // A row whose template could not be used has no content of its own to check.
                badColumns.UnionWith([PostCsv.Text, PostCsv.Media]);
            }
            foreach (var v in row.CellViolations.All)
            {
                PostCsv.AddRowViolation(violations, row, v.Field, v.Description);
            }
            // A cell that could not be read is reported once, not again as the empty value ParseCreate then saw (a bad
            // whatsapp_template cell leaves the content empty: not reported again as content with nothing to send).
            var unreadTemplate = badColumns.Contains(PostCsv.WhatsAppTemplate);
            foreach (var v in rowViolations.All.Where(v => !badColumns.Contains(PostCsv.ColumnOf(v.Field)) && !(unreadTemplate && v.Field == "content")))
            {
                PostCsv.AddRowViolation(violations, row, v.Field, v.Description);
            }
            parsed.Add(post);
            if (!row.CellViolations.Any && !rowViolations.Any)
            {
                checkable.Add((row, post));
            }
        }

        var channels = await store.LoadChannelsAsync(userId, checkable.Select(c => c.Post.ChannelId).Distinct().ToArray(), context.CancellationToken);
        RoleRequiredException? roleRefusal = null;
        var mediaChecks = new List<(CsvPostRow Row, Content Content, Channel Channel)>();
        foreach (var (row, post) in checkable)
        {
            var channelViolations = new FieldViolations();
            switch (post.CheckChannel(channels, channelViolations))
            {
                case NotFoundException:
                    // Another workspace's channel reads as no channel at all, as for CreatePost.
                    PostCsv.AddRowViolation(violations, row, PostCsv.ChannelId, "names no channel of the caller's workspaces (NOT_FOUND)");
                    break;
                case RoleRequiredException role:
                    roleRefusal ??= role;
                    break;
                case { } other:
                    throw other;
            }
            foreach (var v in channelViolations.All)
            {
                PostCsv.AddRowViolation(violations, row, v.Field, v.Description);
            }
            if (!channelViolations.Any && channels.TryGetValue(post.ChannelId, out var target))
            {
                mediaChecks.Add((row, post.Request.Content, target.Channel));
            }
        }
        if (roleRefusal is not null)
        {
            throw roleRefusal;
        }
        // The media of every row that is right otherwise, as CreatePost checks them: a bad file is its row's error too.
        foreach (var (item, field, rule) in await media.BrokenRulesAsync([.. mediaChecks.Select(m => (m.Content, m.Channel))], context.CancellationToken))
        {
            PostCsv.AddRowViolation(violations, mediaChecks[item].Row, field, rule);
        }
        ThrowFirstViolations(violations);

        return await importer.StartAsync(userId, Convert.ToHexStringLower(fileHash), parsed, context.CancellationToken);
    }

    /// <summary>
    /// Gives each row made from a template its content: the template rendered with the row's values for its
    /// channel's platform, as CreatePostFromTemplate renders it. A template the caller cannot see, one of another
    /// workspace than the channel's, and bad values are the row's problems (in the template and variables columns).
    /// </summary>
    private async Task RenderTemplatesAsync(Guid userId, List<CsvPostRow> rows, CancellationToken cancellationToken)
    {
        var templated = rows.Where(r => r.TemplateId is not null && !r.CellViolations.Any).ToList();
        if (templated.Count == 0)
        {
            return;
        }
        var channelIds = templated.Select(r => Guid.TryParse(r.Request.ChannelId, out var id) ? id : Guid.Empty).Distinct().ToArray();
        var sources = await templates.LoadSourcesAsync(userId, templated.Select(r => r.TemplateId!.Value).Distinct().ToArray(), channelIds,
            cancellationToken);
        foreach (var row in templated)
        {
            var channelId = Guid.TryParse(row.Request.ChannelId, out var id) ? id : (Guid?)null;
            if (sources.Render(row.TemplateId!.Value, channelId, row.Variables, PostCsv.Template, PostCsv.Variables, row.CellViolations) is { } content)
            {
                row.Request.Content = content;
            }
            else
            {
                row.CellViolations.Add(PostCsv.Template, "names no template of the caller's workspaces (NOT_FOUND)");
            }
        }
    }

    /// <summary>
    /// Fails the call with the file's first <see cref="MaxReportedViolations"/> problems and a count of the rest: the
    /// details travel in the answer's trailers, which clients cap (64 KiB by default), so a file wrong on every row
    /// must not turn its answer into a transport error.
    /// </summary>
    private static void ThrowFirstViolations(FieldViolations violations)
    {
        if (violations.All.Count <= MaxReportedViolations)
        {
            violations.ThrowIfAny();
            return;
        }
        var first = new FieldViolations();
        foreach (var v in violations.All.Take(MaxReportedViolations))
        {
            first.Add(v.Field, v.Description);
        }
        first.Add("csv", $"has {violations.All.Count - MaxReportedViolations} more problems after these; fix these and send the file again");
        first.ThrowIfAny();
    }

    /// <summary>The most bad cells one answer names.</summary>
    public const int MaxReportedViolations = 100;

    public override async Task<ImportOperation> GetImportOperation(GetImportOperationRequest request, ServerCallContext context) =>
        await importer.FindAsync(context.UserId(), request.Name, context.CancellationToken) ?? throw new NotFoundException("operation", request.Name);

    public override async Task<ExportPostsResponse> ExportPosts(ExportPostsRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations, required: false);
        PostStatus? status = null;
        if (request.StatusFilter != PostStatus.Unspecified)
        {
            if (System.Enum.IsDefined(request.StatusFilter))
            {
                status = request.StatusFilter;
            }
            else
            {
                violations.Add("status_filter", "is not a known value");
            }
        }
        var after = request.PublishAfter is null ? null : RequestFields.ParseTime(request.PublishAfter, "publish_after", violations);
        var before = request.PublishBefore is null ? null : RequestFields.ParseTime(request.PublishBefore, "publish_before", violations);
        violations.ThrowIfAny();

        var filter = new PostFilter(status, null, channelId) { WorkspaceId = workspaceId };
        var posts = await store.ExportAsync(userId, filter, after, before, PostCsv.MaxRows, context.CancellationToken);
        if (posts.Count > PostCsv.MaxRows)
        {
            throw FieldViolations.Single("publish_before", $"more than {PostCsv.MaxRows} posts match, the most one file holds: narrow the time range");
        }
        return new ExportPostsResponse { Csv = Google.Protobuf.ByteString.CopyFrom(PostCsvWriter.Write(posts)), RowCount = posts.Count };
    }
}
