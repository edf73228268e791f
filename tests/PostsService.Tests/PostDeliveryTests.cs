using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// The post detail's reads (PostDeliveryService): each WhatsApp message's delivery per recipient, as Meta's statuses
/// reported it, and the post's trace, for the members of the post's workspace only.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class PostDeliveryTests(PostsServiceFixture fixture)
{
    private readonly Metadata _service = TestTokens.ForService();

    [Fact]
    public async Task A_viewer_of_the_workspace_reads_the_furthest_status_of_each_recipients_message()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Deliveries" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var post = await fixture.CreatePostAsync(owner, channel, "delivered to two");
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var sentAt = DateTimeOffset.UtcNow.AddMinutes(-2);
        await RecordAsync(Status(post.Id, "16505551234", "wamid.one", DeliveryState.Sent, sentAt),
            Status(post.Id, "16505551234", "wamid.one", DeliveryState.Read, sentAt.AddMinutes(1)),
            Status(post.Id, "16505559876", "wamid.two", DeliveryState.Failed, sentAt, errorCode: 131026, errorTitle: "Message undeliverable"));

        var deliveries = (await fixture.PostDeliveries.ListPostDeliveriesAsync(new ListPostDeliveriesRequest { Id = post.Id }, viewer.Headers)).Deliveries;

        Assert.Collection(deliveries,
            read =>
            {
                Assert.Equal(("16505551234", "wamid.one", DeliveryState.Read), (read.RecipientId, read.Wamid, read.State));
                Assert.Equal(sentAt.ToUnixTimeSeconds(), read.SentTime.ToDateTimeOffset().ToUnixTimeSeconds());
                Assert.Equal(sentAt.AddMinutes(1).ToUnixTimeSeconds(), read.ReadTime.ToDateTimeOffset().ToUnixTimeSeconds());
            },
            failed =>
            {
                Assert.Equal(("16505559876", DeliveryState.Failed, 131026, "Message undeliverable"),
                    (failed.RecipientId, failed.State, failed.ErrorCode, failed.ErrorTitle));
            });
    }

    [Fact]
    public async Task Another_users_post_deliveries_and_trace_are_not_found()
    {
        var owner = fixture.NewUser();
        var post = await fixture.CreatePostAsync(owner, await fixture.CreateWhatsAppChannelAsync(owner), "private");
        await RecordAsync(Status(post.Id, "16505551234", "wamid.private", DeliveryState.Delivered, DateTimeOffset.UtcNow));
        var stranger = fixture.NewUser();

        await Expect.Status(StatusCode.NotFound, () =>
            fixture.PostDeliveries.ListPostDeliveriesAsync(new ListPostDeliveriesRequest { Id = post.Id }, stranger.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () =>
            fixture.PostDeliveries.GetPostTraceAsync(new GetPostTraceRequest { Id = post.Id }, stranger.Headers).ResponseAsync);
    }

    [Fact]
    public async Task The_posts_trace_is_the_trace_id_of_its_recorded_traceparent()
    {
        var owner = fixture.NewUser();
        var post = await fixture.CreatePostAsync(owner, await fixture.CreateWhatsAppChannelAsync(owner), "traced");
        await fixture.OwnerScalarAsync("update scheduled_posts set traceparent = @traceparent where id = @id",
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), ("id", Guid.Parse(post.Id)));

        var trace = await fixture.PostDeliveries.GetPostTraceAsync(new GetPostTraceRequest { Id = post.Id }, owner.Headers);

        Assert.Equal(("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"), (trace.TraceId, trace.SpanId));
    }

    private async Task RecordAsync(params DeliveryStatus[] statuses)
    {
        var recorded = await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest { Statuses = { statuses } }, _service);
        Assert.Equal(statuses.Length, recorded.Recorded);
    }

    private static DeliveryStatus Status(string postId, string recipient, string wamid, DeliveryState state, DateTimeOffset at,
        int errorCode = 0, string errorTitle = "") => new()
    {
        PostId = postId, Attempt = 1, CallbackRef = $"socialsync:{postId}:1:+{recipient}#0", Wamid = wamid, RecipientId = recipient,
        State = state, StatusTime = Timestamp.FromDateTimeOffset(at), ErrorCode = errorCode, ErrorTitle = errorTitle,
    };
}
