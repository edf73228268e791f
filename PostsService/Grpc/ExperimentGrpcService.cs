using Grpc.Core;
using SocialSync.Contracts;
using Microsoft.AspNetCore.Authorization;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Limits;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// A/B experiments (docs/experiments.md): requests checked here, what needs the channel checked and written by
/// <see cref="ExperimentStore"/>; the finishing is <c>ExperimentFinisher</c>'s.
/// </summary>
[Authorize(Policy = SocialSyncAuth.UserPolicy)]
public sealed class ExperimentGrpcService(
    ExperimentStore experiments,
    ScheduleChangeNotifier scheduleChanges,
    PostMediaChecks media,
    UserRateLimits limits,
    PostsMetrics metrics,
    TimeProvider time) : ExperimentService.ExperimentServiceBase
{
    /// <summary>Creates the experiment and its variant posts; costs one create per variant, as that many CreatePost calls would.</summary>
    public override async Task<Experiment> CreateExperiment(CreateExperimentRequest request, ServerCallContext context)
    {
        var userId = context.UserId();
        var plan = Parse(request, time.GetUtcNow());
        await media.CheckCreatesAsync(userId, plan.Variants.Select((variant, i) => new NewPost(new CreatePostRequest
        {
            ChannelId = request.ChannelId, Content = variant.Content,
        }, $"variants[{i}].", plan.ChannelId, variant.PublishAt ?? plan.PublishAt ?? default, null, null)).ToList(), context.CancellationToken);
        limits.TakeCreates(userId, plan.Variants.Count);
        var experiment = await experiments.CreateAsync(userId, plan, context.CancellationToken);
        scheduleChanges.Pulse();
        foreach (var _ in experiment.Variants)
        {
            metrics.PostCreated(experiment.Platform);
        }
        return experiment;
    }

    public override async Task<Experiment> GetExperiment(GetExperimentRequest request, ServerCallContext context) =>
        await experiments.GetAsync(context.UserId(), RequestFields.RequireId(request.Id, "id"), context.CancellationToken)
            ?? throw new NotFoundException("experiment", request.Id);

    public override async Task<ListExperimentsResponse> ListExperiments(ListExperimentsRequest request, ServerCallContext context)
    {
        var violations = new FieldViolations();
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        var (pageSize, offset) = PageTokens.ParsePage(request.PageSize, request.PageToken, violations);
        violations.ThrowIfAny();
        var page = await experiments.ListAsync(context.UserId(), workspaceId, pageSize, offset, context.CancellationToken);
        return new ListExperimentsResponse { Experiments = { page.Items }, NextPageToken = PageTokens.Next(page.More, offset, pageSize) };
    }

    /// <summary>Everything a create needs checked without the channel; what the channel's platform needs is <see cref="ExperimentRules.CheckFor"/>'s.</summary>
    public static ExperimentPlan Parse(CreateExperimentRequest request, DateTimeOffset now)
    {
        var violations = new FieldViolations();
        var channelId = RequestFields.ParseId(request.ChannelId, "channel_id", violations);
        var workspaceId = RequestFields.ParseId(request.WorkspaceId, "workspace_id", violations, required: false);
        if (request.Variants.Count is < ExperimentRules.MinVariants or > ExperimentRules.MaxVariants)
        {
            violations.Add("variants", $"must hold {ExperimentRules.MinVariants} to {ExperimentRules.MaxVariants} variants");
        }
        var variants = new List<(Content, DateTimeOffset?)>();
        for (var i = 0; i < request.Variants.Count && i < ExperimentRules.MaxVariants; i++)
        {
            var variant = request.Variants[i];
            ContentRules.CheckShape(variant.Content, $"variants[{i}].content", violations);
            variants.Add((variant.Content ?? new Content(), ParseFutureTime(variant.PublishAt, $"variants[{i}].publish_at", now, violations)));
        }
        var publishAt = ParseFutureTime(request.PublishAt, "publish_at", now, violations);
        ChannelSettingsRules.CheckRecipients(request.Recipients, "recipients", violations);
        var testShare = request.TestShare == 0 ? 1 : request.TestShare;
        if (testShare is < ExperimentRules.MinTestShare or > 1 || double.IsNaN(testShare))
        {
            violations.Add("test_share", $"must be between {ExperimentRules.MinTestShare} and 1 (0 means 1: no holdout)");
        }
        var winnerAfter = request.WinnerAfter?.ToTimeSpan() ?? TimeSpan.Zero;
        if (winnerAfter <= TimeSpan.Zero || winnerAfter > ExperimentRules.MaxWinnerAfter)
        {
            violations.Add("winner_after", $"must be more than 0 and at most {ExperimentRules.MaxWinnerAfter.TotalDays} days");
        }
        if (request.Name.Length > ExperimentRules.MaxNameLength)
        {
            violations.Add("name", $"must be at most {ExperimentRules.MaxNameLength} characters");
        }
        if (request.RequestId.Length > 64)
        {
            violations.Add("request_id", "must be at most 64 characters");
        }
        violations.ThrowIfAny();
        return new ExperimentPlan(channelId!.Value, workspaceId, request.Name, variants, publishAt, [.. request.Recipients], testShare, winnerAfter,
            request.Draft, ExperimentSplit.NewSeed())
        {
            RequestId = request.RequestId.Length > 0 ? request.RequestId : null,
            RequestHash = request.RequestId.Length > 0 ? CanonicalHash(request, channelId.Value) : null,
        };
    }

    /// <summary>The request's hash (<see cref="RequestHashes"/>), with its channel id as stored.</summary>
    private static byte[] CanonicalHash(CreateExperimentRequest request, Guid channelId)
    {
        var canonical = request.Clone();
        canonical.RequestId = "";
        canonical.ChannelId = channelId.ToString();
        return RequestHashes.Of(canonical);
    }

    /// <summary>An optional time that must lie in the publish window when given (the platform decides whether it is needed).</summary>
    private static DateTimeOffset? ParseFutureTime(Google.Protobuf.WellKnownTypes.Timestamp? value, string field, DateTimeOffset now, FieldViolations violations)
    {
        if (value is null)
        {
            return null;
        }
        var parsed = RequestFields.ParseTime(value, field, violations);
        PublishWindow.Check(parsed, now, field, violations);
        return parsed;
    }
}
