using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// A workspace's outbound webhook endpoints (docs/webhooks.md, "Webhooks out"): requests checked here
/// (<see cref="WebhookRules"/>), endpoints and logs in <see cref="WebhookEndpointStore"/>; the sending is
/// <c>WebhookDeliveryWorker</c>'s.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class WebhookEndpointGrpcService(WebhookEndpointStore endpoints, WebhookOptions options, TimeProvider time)
    : WebhookEndpointService.WebhookEndpointServiceBase
{
    public override async Task<CreateWebhookEndpointResponse> CreateWebhookEndpoint(CreateWebhookEndpointRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        WebhookRules.CheckUrl(request.Url, "url", options.AllowInsecureUrls, violations);
        WebhookRules.CheckEventTypes(request.EventTypes, "event_types", violations);
        WebhookRules.CheckDescription(request.Description, "description", violations);
        violations.ThrowIfAny();
        var secret = WebhookRules.NewSecret();
        var endpoint = await endpoints.CreateAsync(context.UserId(), workspaceId, request.Url, request.Description, request.EventTypes, secret,
            context.CancellationToken);
        return new CreateWebhookEndpointResponse { Endpoint = endpoint, Secret = secret };
    }

    public override Task<WebhookEndpoint> GetWebhookEndpoint(GetWebhookEndpointRequest request, ServerCallContext context) =>
        endpoints.GetAsync(context.UserId(), RequestFields.RequireId(request.Id, "id"), context.CancellationToken);

    public override async Task<ListWebhookEndpointsResponse> ListWebhookEndpoints(ListWebhookEndpointsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations);
        violations.ThrowIfAny();
        var page = await endpoints.ListAsync(context.UserId(), workspaceId, pageSize, offset, context.CancellationToken);
        return new ListWebhookEndpointsResponse { Endpoints = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }

    /// <summary>Without a mask, the fields sent change (enabled only when sent true: disabling needs the mask).</summary>
    public override async Task<WebhookEndpoint> UpdateWebhookEndpoint(UpdateWebhookEndpointRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var sent = request.Endpoint ?? new WebhookEndpoint();
        var id = RequestFields.ParseId(sent.Id, "endpoint.id", violations);
        var paths = RequestFields.UpdatePaths(request.UpdateMask, WebhookEndpointEdit.Updatable, field => field switch
        {
            "url" => sent.Url.Length > 0,
            "description" => sent.Description.Length > 0,
            "event_types" => sent.EventTypes.Count > 0,
            "enabled" => sent.Enabled,
            _ => false,
        }, violations);
        if (paths.Contains("url"))
        {
            WebhookRules.CheckUrl(sent.Url, "endpoint.url", options.AllowInsecureUrls, violations);
        }
        if (paths.Contains("event_types"))
        {
            WebhookRules.CheckEventTypes(sent.EventTypes, "endpoint.event_types", violations);
        }
        if (paths.Contains("description"))
        {
            WebhookRules.CheckDescription(sent.Description, "endpoint.description", violations);
        }
        violations.ThrowIfAny();
        var edit = new WebhookEndpointEdit(id!.Value,
            paths.Contains("url") ? sent.Url : null,
            paths.Contains("description") ? sent.Description : null,
            paths.Contains("event_types") ? sent.EventTypes : null,
            paths.Contains("enabled") ? sent.Enabled : null);
        return await endpoints.UpdateAsync(context.UserId(), edit, time.GetUtcNow(), context.CancellationToken);
    }

    public override async Task<Empty> DeleteWebhookEndpoint(DeleteWebhookEndpointRequest request, ServerCallContext context)
    {
        await endpoints.DeleteAsync(context.UserId(), RequestFields.RequireId(request.Id, "id"), context.CancellationToken);
        return new Empty();
    }

    public override async Task<RotateWebhookEndpointSecretResponse> RotateWebhookEndpointSecret(RotateWebhookEndpointSecretRequest request,
        ServerCallContext context)
    {
        var id = RequestFields.RequireId(request.Id, "id");
        var secret = WebhookRules.NewSecret();
        var endpoint = await endpoints.RotateSecretAsync(context.UserId(), id, secret, time.GetUtcNow() + options.RotationGracePeriod, context.CancellationToken);
        return new RotateWebhookEndpointSecretResponse { Endpoint = endpoint, Secret = secret };
    }

    public override async Task<ListWebhookDeliveriesResponse> ListWebhookDeliveries(ListWebhookDeliveriesRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var endpointId = RequestFields.ParseId(request.EndpointId, "endpoint_id", violations);
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations);
        violations.ThrowIfAny();
        var page = await endpoints.ListAttemptsAsync(context.UserId(), endpointId!.Value, pageSize, offset, context.CancellationToken);
        return new ListWebhookDeliveriesResponse { Attempts = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }

    public override async Task<Empty> RedeliverWebhook(RedeliverWebhookRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var endpointId = RequestFields.ParseId(request.EndpointId, "endpoint_id", violations);
        if (request.EventId.Length is 0 or > 100)
        {
            violations.Add("event_id", "is required: the webhook-id of an event sent to the endpoint (ListWebhookDeliveries)");
        }
        violations.ThrowIfAny();
        await endpoints.RedeliverAsync(context.UserId(), endpointId!.Value, request.EventId, time.GetUtcNow(), context.CancellationToken);
        return new Empty();
    }
}
