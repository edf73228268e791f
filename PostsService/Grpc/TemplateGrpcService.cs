using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;
using SocialSync.PostsService.Telemetry;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// Templates (issue 16, docs/planning.md "Templates"): a workspace's reusable contents (<see cref="TemplateStore"/>),
/// rendered with a post's values (<see cref="TemplateText"/>) into a create that goes the way of every CreatePost.
/// A template the caller cannot see is NOT_FOUND, as everywhere.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class TemplateGrpcService(
    TemplateStore templates,
    CreatePostBatcher createBatcher,
    PostMediaChecks media,
    UserRateLimits limits,
    TimeProvider time) : TemplateService.TemplateServiceBase
{
    public override async Task<Template> CreateTemplate(CreateTemplateRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var template = request.Template ?? new Template();
        var workspaceId = RequestFields.ParseId(template.WorkspaceId, "template.workspace_id", violations, required: false);
        TemplateText.CheckDefinition(template, violations);
        violations.ThrowIfAny();
        return await templates.CreateAsync(context.UserId(), workspaceId, template, context.CancellationToken)
            ?? throw new NotFoundException("workspace", template.WorkspaceId);
    }

    public override async Task<Template> GetTemplate(GetTemplateRequest request, ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        return await templates.GetAsync(context.UserId(), id, context.CancellationToken) ?? throw new NotFoundException("template", request.Id);
    }

    public override async Task<ListTemplatesResponse> ListTemplates(ListTemplatesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations);
        violations.ThrowIfAny();
        var page = await templates.ListAsync(context.UserId(), workspaceId, pageSize, offset, context.CancellationToken);
        return new ListTemplatesResponse { Templates = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }

    /// <summary>Replaces the fields of the mask; the template as it would then be is checked whole, so content may use a variable the same update declares.</summary>
    public override async Task<Template> UpdateTemplate(UpdateTemplateRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var sent = request.Template ?? new Template();
        var id = RequestFields.ParseId(sent.Id, "template.id", violations);
        var etag = RequestFields.ParseEtag(sent.Etag, "template.etag", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, TemplateEdit.Updatable, field => field switch
        {
            "name" => sent.Name.Length > 0,
            "description" => sent.Description.Length > 0,
            "variables" => sent.Variables.Count > 0,
            "content" => sent.Content is not null,
            "variants" => sent.Variants.Count > 0,
            _ => false,
        }, violations);
        violations.ThrowIfAny();
        var edit = new TemplateEdit(id!.Value, etag, sent, paths);
        return await templates.UpdateAsync(context.UserId(), edit, changed =>
            {
                var checks = new FieldViolations();
                TemplateText.CheckDefinition(changed, checks);
                checks.ThrowIfAny();
            }, context.CancellationToken)
            ?? throw new NotFoundException("template", sent.Id);
    }

    public override async Task<Empty> DeleteTemplate(DeleteTemplateRequest request, ServerCallContext context)
    {
        var (id, etag) = RequestFields.RequireIdAndEtag(request.Id, request.Etag);
        return await templates.DeleteAsync(context.UserId(), id, etag, context.CancellationToken)
            ? new Empty()
            : throw new NotFoundException("template", request.Id);
    }

    public override async Task<Content> RenderTemplate(RenderTemplateRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var id = RequestFields.ParseId(request.Id, "id", violations);
        if (!System.Enum.IsDefined(request.Platform))
        {
            violations.Add("platform", "is not a known platform");
        }
        violations.ThrowIfAny();
        var template = await templates.GetAsync(context.UserId(), id!.Value, context.CancellationToken)
            ?? throw new NotFoundException("template", request.Id);
        var rendered = TemplateText.Render(template, request.Platform, request.Variables, "variables", violations);
        violations.ThrowIfAny();
        return rendered;
    }

    /// <summary>
    /// Renders the template for the channel's platform, then creates the post as CreatePost does: the same checks
    /// (<see cref="PostRequests.ParseCreate"/>, media), the same create bucket, and the same create path
    /// (<see cref="CreatePostBatcher"/>: the channel loaded and checked for the caller's role and the platform's
    /// content rules, approval, request_id).
    /// </summary>
    public override async Task<ScheduledPost> CreatePostFromTemplate(CreatePostFromTemplateRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var violations = new FieldViolations();
        var templateId = RequestFields.ParseId(request.TemplateId, "template_id", violations);
        var post = request.Post ?? new CreatePostRequest();
        if (request.Post is null)
        {
            violations.Add("post", "is required: the channel, publish_at and the other fields of CreatePost but content");
        }
        if (post.Content is not null)
        {
            violations.Add("post.content", "is given by the template: leave it unset");
        }
        var channelId = RequestFields.ParseId(post.ChannelId, "post.channel_id", violations);
        violations.ThrowIfAny();

        var sources = await templates.LoadSourcesAsync(userId, [templateId!.Value], [channelId!.Value], context.CancellationToken);
        if (!sources.Channels.ContainsKey(channelId.Value) && sources.Templates.ContainsKey(templateId.Value))
        {
            throw new NotFoundException("channel", post.ChannelId);
        }
        var create = post.Clone();
        create.Content = sources.Render(templateId.Value, channelId.Value, request.Variables, "template_id", "variables", violations)
            ?? throw new NotFoundException("template", request.TemplateId);
        violations.ThrowIfAny();
        var parsed = PostRequests.ParseCreate(create, "post.", time.GetUtcNow(), violations);
        violations.ThrowIfAny();
        await media.CheckCreatesAsync(userId, [parsed], context.CancellationToken);
        limits.TakeCreates(userId, 1);

        var created = await createBatcher.CreateAsync(userId, parsed with { Traceparent = Activity.Current?.Id }, context.CancellationToken);
        PostTracing.Created(created);
        return created;
    }
}
