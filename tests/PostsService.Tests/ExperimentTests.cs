using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A/B experiments (issue 17 part 4, docs/experiments.md) against a real PostgreSQL and PostsService: the variant
/// posts and the split, the checks of a create, who may create and read, and a finish that happens once.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class ExperimentTests(PostsServiceFixture fixture)
{
    private static readonly string[] TenRecipients = Enumerable.Range(0, 10).Select(i => $"+1650555{i:0000}").ToArray();

    [Fact]
    public async Task A_WhatsApp_experiment_splits_its_recipients_among_its_variant_posts_and_keeps_the_holdout_back()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);

        var experiment = await fixture.Experiments.CreateExperimentAsync(WhatsApp(channel, TenRecipients, testShare: 0.6), owner.Headers);

        Assert.Equal((ExperimentState.Running, Platform.Whatsapp, ""), (experiment.State, experiment.Platform, experiment.WinnerLabel));
        Assert.Equal(["A", "B"], experiment.Variants.Select(v => v.Label));
        Assert.Equal([3, 3], experiment.Variants.Select(v => v.Recipients.Count));
        Assert.Equal(4, experiment.HoldoutRecipients.Count);
        Assert.Equal(TenRecipients.Order(), experiment.Variants.SelectMany(v => v.Recipients).Concat(experiment.HoldoutRecipients).Order());
        foreach (var variant in experiment.Variants)
        {
            var post = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = variant.PostId }, owner.Headers);
            Assert.Equal((PostStatus.Queued, experiment.Variants[0].PublishAt), (post.Status, post.PublishAt));
            Assert.Equal(variant.Recipients, post.Recipients);
            Assert.Equal(3, variant.SampleSize);
        }
        // The same split again from the stored seed.
        var again = ExperimentSplit.Apply(TenRecipients, 2, 0.6, experiment.Seed);
        Assert.Equal(again.Variants, experiment.Variants.Select(v => v.Recipients.ToList()));
    }

    [Fact]
    public async Task Without_recipients_of_its_own_a_WhatsApp_experiment_splits_the_channels()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp, AccountId = "10" + Random.Shared.NextInt64(1_000_000_000, 9_999_999_999), AccessToken = "EAAG-test-token",
            Settings = new ChannelSettings { Recipients = { TenRecipients.Take(5) } },
        }, owner.Headers);

        var experiment = await fixture.Experiments.CreateExperimentAsync(WhatsApp(channel, []), owner.Headers);

        Assert.Equal([3, 2], experiment.Variants.Select(v => v.Recipients.Count));
    }

    [Fact]
    public async Task Bad_experiments_are_invalid_argument_naming_the_field()
    {
        var owner = fixture.NewUser();
        var whatsApp = await fixture.CreateWhatsAppChannelAsync(owner);
        var instagram = await fixture.CreateInstagramChannelAsync(owner);

        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, variants: 1)), "variants");
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, variants: 5)), "variants");
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, testShare: 0.1)), "test_share");
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, testShare: 1.5)), "test_share");
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, winnerAfter: TimeSpan.Zero)), "winner_after");
        // 3 recipients cannot give 2 variants 2 each; 10 at 20% neither.
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients.Take(3).ToArray())), "recipients");
        await Expect.BadFields(() => Create(owner, WhatsApp(whatsApp, TenRecipients, testShare: 0.2)), "recipients");
        var noTime = WhatsApp(whatsApp, TenRecipients);
        noTime.PublishAt = null;
        await Expect.BadFields(() => Create(owner, noTime), "publish_at");

        await Expect.BadFields(() => Create(owner, Instagram(instagram, TimeSpan.FromHours(1), TimeSpan.FromHours(-1))), "variants[1].publish_at");
        var oneTime = Instagram(instagram, TimeSpan.FromHours(1), TimeSpan.FromHours(2));
        oneTime.Variants[0].PublishAt = null;
        await Expect.BadFields(() => Create(owner, oneTime), "variants[0].publish_at");
        var withShare = Instagram(instagram, TimeSpan.FromHours(1), TimeSpan.FromHours(2));
        withShare.TestShare = 0.5;
        await Expect.BadFields(() => Create(owner, withShare), "test_share");
        var noMedia = Instagram(instagram, TimeSpan.FromHours(1), TimeSpan.FromHours(2));
        noMedia.Variants[1].Content.Media.Clear();
        await Expect.BadFields(() => Create(owner, noMedia), "variants[1].content.media");
    }

    [Fact]
    public async Task A_viewer_may_read_but_not_create_and_another_workspace_gets_not_found()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Experiments" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var stranger = fixture.NewUser();
        var experiment = await Create(owner, WhatsApp(channel, TenRecipients));

        await Expect.Status(StatusCode.PermissionDenied, () => Create(viewer, WhatsApp(channel, TenRecipients)));
        await Expect.Status(StatusCode.NotFound, () => Create(stranger, WhatsApp(channel, TenRecipients)));
        await Expect.Status(StatusCode.NotFound, () =>
            fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, stranger.Headers).ResponseAsync);
        Assert.Empty((await fixture.Experiments.ListExperimentsAsync(new ListExperimentsRequest(), stranger.Headers)).Experiments);

        var read = await fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, viewer.Headers);
        Assert.Equal(experiment.Variants.Select(v => v.PostId), read.Variants.Select(v => v.PostId));
        var listed = await fixture.Experiments.ListExperimentsAsync(new ListExperimentsRequest { WorkspaceId = workspace.Id }, viewer.Headers);
        Assert.Equal(experiment.Id, Assert.Single(listed.Experiments).Id);
    }

    [Fact]
    public async Task A_contributors_variants_wait_for_approval_and_pages_of_experiments_follow_one_another()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Approvals" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);

        var first = await Create(contributor, WhatsApp(channel, TenRecipients));
        var second = await Create(owner, WhatsApp(channel, TenRecipients));

        Assert.All(first.Variants, v => Assert.Equal(PostStatus.PendingApproval, v.Status));
        var page1 = await fixture.Experiments.ListExperimentsAsync(new ListExperimentsRequest { WorkspaceId = workspace.Id, PageSize = 1 }, owner.Headers);
        var page2 = await fixture.Experiments.ListExperimentsAsync(
            new ListExperimentsRequest { WorkspaceId = workspace.Id, PageSize = 1, PageToken = page1.NextPageToken }, owner.Headers);
        Assert.Equal([second.Id, first.Id], page1.Experiments.Concat(page2.Experiments).Select(e => e.Id));
        Assert.Equal("", page2.NextPageToken);
    }

    [Fact]
    public async Task Finishing_runs_once_however_many_finishers_race_one_winner_post_for_the_holdout_and_one_event()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        var endpoint = await fixture.WebhookEndpoints.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
        {
            Url = "https://example.com/experiments", EventTypes = { "experiment.finished" },
        }, owner.Headers);
        var experiment = await Create(owner, WhatsApp(channel, TenRecipients, testShare: 0.6));
        foreach (var variant in experiment.Variants)
        {
            await fixture.FinishAsync(variant.PostId, OutcomeKind.Published);
        }
        // B's three recipients all read it, A's one: B wins.
        await RecordAsync(experiment.Variants[0], read: 1);
        await RecordAsync(experiment.Variants[1], read: 3);
        await fixture.OwnerScalarAsync("update experiments set finishes_at = now() - interval '1 second', winner_after = interval '1 millisecond' where id = @id", ("id", Guid.Parse(experiment.Id)));

        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        await using var database = new PostsDatabase(dataSource, new ConfigurationBuilder()
            .AddInMemoryCollection([new("Database:AppPassword", PostsServiceFixture.AppRolePassword)]).Build());
        var store = new ExperimentStore(database, new ExperimentOptions());
        // Two finishers of this process race the service's own; each finishes whatever else is due too, so count ours.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (await store.FinishDueAsync(DateTimeOffset.UtcNow, CancellationToken.None) is not null)
            {
            }
        })));
        var finished = await Polling.UntilAsync(
            () => fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, owner.Headers).ResponseAsync,
            e => e.State == ExperimentState.Finished, TimeSpan.FromSeconds(30), "the experiment finished");
        await store.FinishDueAsync(DateTimeOffset.UtcNow, CancellationToken.None);

        // Three recipients a variant is below the default minimum sample (100): a winner, but too small to call.
        Assert.Equal(("B", true), (finished.WinnerLabel, finished.SampleTooSmall));
        Assert.Equal((1.0 / 3, 1.0), (finished.Variants[0].ReadRate, finished.Variants[1].ReadRate));
        var winnerPost = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = finished.WinnerPostId }, owner.Headers);
        Assert.Equal(experiment.HoldoutRecipients.Order(), winnerPost.Recipients.Order());
        Assert.Equal(PostStatus.Queued, winnerPost.Status);
        Assert.Equal(3L, await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where channel_id = @channel", ("channel", Guid.Parse(channel.Id))));
        Assert.Equal(1L, await fixture.OwnerScalarAsync(
            "select count(*) from webhook_deliveries where endpoint_id = @endpoint and event_type = 'experiment.finished'",
            ("endpoint", Guid.Parse(endpoint.Endpoint.Id))));
        var payload = (string)(await fixture.OwnerScalarAsync("select payload from webhook_deliveries where endpoint_id = @endpoint",
            ("endpoint", Guid.Parse(endpoint.Endpoint.Id))))!;
        Assert.Contains($"\"experiment_id\":\"{experiment.Id}\"", payload);
        Assert.Contains("\"winner_label\":\"B\"", payload);
    }

    private Task<Experiment> Create(TestUser user, CreateExperimentRequest request) =>
        fixture.Experiments.CreateExperimentAsync(request, user.Headers).ResponseAsync;

    private async Task RecordAsync(ExperimentVariant variant, int read)
    {
        var statuses = variant.Recipients.Select((recipient, i) => new DeliveryStatus
        {
            PostId = variant.PostId, Attempt = 1, CallbackRef = $"socialsync:{variant.PostId}:1:{recipient}#0", Wamid = $"wamid.{variant.PostId}.{i}",
            RecipientId = recipient.TrimStart('+'), State = i < read ? DeliveryState.Read : DeliveryState.Delivered,
            StatusTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
        await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest { Statuses = { statuses } }, TestTokens.ForService());
    }

    [Fact]
    public async Task A_create_repeated_with_its_request_id_returns_the_first_experiment_and_schedules_its_variants_once()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        var request = WhatsApp(channel, TenRecipients);
        request.RequestId = "launch-test-1";

        var first = await fixture.Experiments.CreateExperimentAsync(request, owner.Headers);
        // A retry, and four more at once (a client retrying on several connections).
        var repeats = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fixture.Experiments.CreateExperimentAsync(request, owner.Headers).ResponseAsync));

        Assert.All(repeats, repeat => Assert.Equal(first.Id, repeat.Id));
        Assert.All(repeats, repeat => Assert.Equal(first.Variants.Select(v => v.PostId), repeat.Variants.Select(v => v.PostId)));
        Assert.Equal(2L, await fixture.OwnerScalarAsync("select count(*) from scheduled_posts where channel_id = @c", ("c", Guid.Parse(channel.Id))));
        Assert.Equal(1L, await fixture.OwnerScalarAsync("select count(*) from experiments where channel_id = @c", ("c", Guid.Parse(channel.Id))));
    }

    [Fact]
    public async Task A_request_id_sent_again_with_another_request_is_already_exists_naming_the_first_experiment()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        var request = WhatsApp(channel, TenRecipients);
        request.RequestId = "launch-test-2";
        var first = await fixture.Experiments.CreateExperimentAsync(request, owner.Headers);

        var other = request.Clone();
        other.Variants[0].Content.Text = "Another variant";
        var refused = await Expect.Status(StatusCode.AlreadyExists, () => fixture.Experiments.CreateExperimentAsync(other, owner.Headers).ResponseAsync);

        var info = refused.GetRpcStatus()?.GetDetail<Google.Rpc.ErrorInfo>();
        Assert.NotNull(info);
        Assert.Equal(("request_id", "launch-test-2", first.Id), (info.Metadata["field"], info.Metadata["request_id"], info.Metadata["experiment_id"]));
        Assert.Equal(1L, await fixture.OwnerScalarAsync("select count(*) from experiments where channel_id = @c", ("c", Guid.Parse(channel.Id))));
        // Another user's same request_id is theirs alone.
        var stranger = fixture.NewUser();
        var theirs = WhatsApp(await fixture.CreateWhatsAppChannelAsync(stranger), TenRecipients);
        theirs.RequestId = "launch-test-2";
        Assert.NotEqual(first.Id, (await fixture.Experiments.CreateExperimentAsync(theirs, stranger.Headers)).Id);
    }

    private static CreateExperimentRequest WhatsApp(Channel channel, string[] recipients, int variants = 2, double testShare = 0,
        TimeSpan? winnerAfter = null) => new()
    {
        ChannelId = channel.Id,
        Variants = { Enumerable.Range(0, variants).Select(i => new ExperimentVariantContent { Content = new Content { Text = $"Variant {i}" } }) },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        Recipients = { recipients },
        TestShare = testShare,
        WinnerAfter = Duration.FromTimeSpan(winnerAfter ?? TimeSpan.FromHours(2)),
    };

    private static CreateExperimentRequest Instagram(Channel channel, params TimeSpan[] times) => new()
    {
        ChannelId = channel.Id,
        Variants =
        {
            times.Select((time, i) => new ExperimentVariantContent
            {
                Content = new Content { Text = $"Variant {i}", Media = { new Media { Type = MediaType.Image, Url = "https://example.com/image.jpg" } } },
                PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + time),
            }),
        },
        WinnerAfter = Duration.FromTimeSpan(TimeSpan.FromHours(2)),
    };
}
