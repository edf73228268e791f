using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// WatchPosts (issue 17 part 5): a workspace's post changes from a resume token, each once, in commit order per post,
/// to its members only, across a crash of PostsService.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class WatchPostsTests(PostsServiceFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WatchPosts_resumes_without_loss_or_duplicates_across_a_PostsService_kill_9()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var seed = await fixture.CreatePostAsync(user, channel, "seed");
        var beforeTheWatch = await RecordedChangeIdsAsync(user.Id);

        var watch = Watcher.Start(fixture, user, new WatchPostsRequest { WorkspaceId = user.Id.ToString() });
        var token = await watch.FirstTokenAsync();

        // Writers keep writing through the kill: creates and edits through the API (which fail while it is down), and
        // edits straight into PostgreSQL, some of them in transactions held open so that they commit after changes
        // with larger ids.
        using var stopWriting = new CancellationTokenSource();
        var apiWriter = Task.Run(async () =>
        {
            for (var i = 0; !stopWriting.IsCancellationRequested; i++)
            {
                try
                {
                    var post = await fixture.CreatePostAsync(user, channel, $"api {i}");
                    await fixture.Posts.UpdatePostAsync(new UpdatePostRequest { Id = post.Id, Content = new Content { Text = $"api {i} edited" } }, user.Headers);
                    if (i % 3 == 0)
                    {
                        await fixture.Posts.CancelPostAsync(new CancelPostRequest { Id = post.Id }, user.Headers);
                    }
                }
                catch (RpcException)
                {
                    await Task.Delay(50);
                }
            }
        });
        var sqlWriter = Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString);
            await connection.OpenAsync();
            for (var i = 0; !stopWriting.IsCancellationRequested; i++)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await using var edit = new NpgsqlCommand(
                    "update scheduled_posts set content_json = jsonb_set(content_json, '{text}', to_jsonb(@text)) where id = @id", connection, transaction);
                edit.Parameters.AddWithValue("text", $"sql {i}");
                edit.Parameters.AddWithValue("id", Guid.Parse(seed.Id));
                await edit.ExecuteNonQueryAsync();
                await Task.Delay(i % 2 == 0 ? 300 : 5);
                await transaction.CommitAsync();
            }
        });

        await watch.UntilAsync(changes => changes.Count >= 10, "changes before the kill");
        fixture.Service.Kill();
        await watch.EndedAsync();
        await Task.Delay(500);
        await fixture.Service.StartAsync();

        var resumedFrom = watch.LastToken;
        Assert.NotEqual(token, resumedFrom);
        // As a client does: from the last token, again while the new process is not reachable yet.
        Watcher resumed;
        for (var attempt = 1; ; attempt++)
        {
            resumed = Watcher.Start(fixture, user, new WatchPostsRequest { WorkspaceId = user.Id.ToString(), ResumeToken = resumedFrom }, watch.Changes);
            try
            {
                await resumed.FirstTokenAsync();
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < 50)
            {
                await Task.Delay(200);
            }
        }
        await resumed.UntilAsync(changes => changes.Count >= watch.Changes.Count + 10, "changes after the restart");
        await stopWriting.CancelAsync();
        await Task.WhenAll(apiWriter, sqlWriter);

        var recorded = (await RecordedChangeIdsAsync(user.Id)).Except(beforeTheWatch).ToList();
        var received = await resumed.UntilAsync(changes => changes.Count >= recorded.Count, "every recorded change");
        await resumed.DisposeAsync();

        var ids = received.Select(c => c.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(recorded.Order(), ids.Order());
        // Per post, the changes arrive in the order they were committed, which for one post is their id order.
        Assert.All(received.GroupBy(c => c.PostId), post => Assert.Equal(post.Select(c => c.Id).Order(), post.Select(c => c.Id)));
        Assert.Contains(received, c => c.PostId == seed.Id && c.Kind == PostChangeKind.Edited);
        Assert.Contains(received, c => c.Kind == PostChangeKind.Created);
        Assert.Contains(received, c => c.Kind == PostChangeKind.StatusChanged && c.Status == PostStatus.Cancelled);
    }

    [Fact]
    public async Task A_change_committed_after_one_with_a_larger_id_is_still_sent()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var early = await fixture.CreatePostAsync(user, channel, "early");
        await using var watch = Watcher.Start(fixture, user, new WatchPostsRequest());
        await watch.FirstTokenAsync();

        // A transaction draws its change's id, then commits only after another post's change (a larger id) committed
        // and was sent: a reader that resumed from "id > the last one sent" would never send it.
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var edit = new NpgsqlCommand("update scheduled_posts set publish_at = publish_at + interval '1 hour' where id = @id", connection, transaction))
        {
            edit.Parameters.AddWithValue("id", Guid.Parse(early.Id));
            await edit.ExecuteNonQueryAsync();
        }
        var late = await fixture.CreatePostAsync(user, channel, "late");
        await Task.Delay(1500);
        await transaction.CommitAsync();

        var received = await watch.UntilAsync(changes => changes.Count >= 2, "both changes");
        Assert.Equal(new[] { (early.Id, PostChangeKind.Edited), (late.Id, PostChangeKind.Created) }.Order(), received.Select(c => (c.PostId, c.Kind)).Order());
        Assert.True(received.Single(c => c.PostId == early.Id).Id < received.Single(c => c.PostId == late.Id).Id, "the late commit drew the smaller id");
    }

    [Fact]
    public async Task Another_workspaces_changes_are_never_sent_and_viewers_may_watch()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Watched" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var stranger = fixture.NewUser();
        var strangersChannel = await fixture.CreateWhatsAppChannelAsync(stranger);

        await Expect.Status(StatusCode.NotFound, () => Watcher.FirstMessageAsync(fixture, stranger, new WatchPostsRequest { WorkspaceId = workspace.Id }));

        await using var ownersWatch = Watcher.Start(fixture, owner, new WatchPostsRequest());
        await using var viewersWatch = Watcher.Start(fixture, viewer, new WatchPostsRequest { WorkspaceId = workspace.Id });
        await using var strangersWatch = Watcher.Start(fixture, stranger, new WatchPostsRequest());
        await Task.WhenAll(ownersWatch.FirstTokenAsync(), viewersWatch.FirstTokenAsync(), strangersWatch.FirstTokenAsync());

        var strangersPost = await fixture.CreatePostAsync(stranger, strangersChannel, "not yours");
        var post = await fixture.CreatePostAsync(owner, channel, "ours");

        foreach (var watch in new[] { ownersWatch, viewersWatch })
        {
            var received = await watch.UntilAsync(changes => changes.Count >= 1, "the workspace's post");
            await Task.Delay(1500);
            Assert.Equal([post.Id], watch.Changes.Select(c => c.PostId));
            Assert.Equal(workspace.Id, received[0].WorkspaceId);
        }
        var strangers = await strangersWatch.UntilAsync(changes => changes.Count >= 1, "the stranger's own post");
        Assert.Equal([strangersPost.Id], strangers.Select(c => c.PostId));
    }

    [Fact]
    public async Task A_recorded_delivery_status_reaches_the_workspaces_watchers_once_and_a_repeated_one_does_not()
    {
        var owner = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(owner);
        var post = await fixture.CreatePostAsync(owner, channel, "delivered live");
        await using var watch = Watcher.Start(fixture, owner, new WatchPostsRequest());
        await watch.FirstTokenAsync();
        var service = SocialSync.Testing.TestTokens.ForService();
        DeliveryStatus Reported(DeliveryState state) => new()
        {
            PostId = post.Id, Attempt = 1, CallbackRef = $"socialsync:{post.Id}:1:+16505551234#0", Wamid = "wamid.live",
            RecipientId = "16505551234", State = state, StatusTime = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        static bool IsDelivery(PostChange change) => change.Kind == PostChangeKind.DeliveryUpdated;

        await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest { Statuses = { Reported(DeliveryState.Sent) } }, service);
        var first = (await watch.UntilAsync(changes => changes.Any(IsDelivery), "the delivery change")).Single(IsDelivery);
        Assert.Equal((post.Id, channel.WorkspaceId, PostStatus.Queued), (first.PostId, first.WorkspaceId, first.Status));

        // The same status again (reported later: the earliest time is kept) changes nothing; a further one is one more change.
        await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest { Statuses = { Reported(DeliveryState.Sent) } }, service);
        await fixture.Deliveries.RecordDeliveryStatusesAsync(new RecordDeliveryStatusesRequest { Statuses = { Reported(DeliveryState.Read) } }, service);
        await watch.UntilAsync(changes => changes.Count(IsDelivery) >= 2, "the read status's change");
        await Task.Delay(1500);
        Assert.Equal(2, watch.Changes.Count(IsDelivery));
    }

    [Fact]
    public async Task A_token_older_than_the_retained_history_is_FAILED_PRECONDITION_and_keep_alives_carry_newer_tokens()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        string oldToken;
        await using (var watch = Watcher.Start(fixture, user, new WatchPostsRequest()))
        {
            oldToken = await watch.FirstTokenAsync();
            await fixture.CreatePostAsync(user, channel);
            await watch.UntilAsync(changes => changes.Count == 1, "the create");
            // Nothing changes: keep-alives (every second here) still come, without changes, each with a token.
            var messages = watch.Messages;
            await WaitUntil(() => watch.Messages >= messages + 2, "two keep-alives");
            Assert.Single(watch.Changes);
        }

        // The change falls out of the retained history (24 hours): the pruning, every second here, takes it.
        await fixture.OwnerScalarAsync("update post_changes set at = now() - interval '25 hours' where workspace_id = @w", ("w", user.Id));
        await WaitUntil(async () => (long)(await fixture.OwnerScalarAsync("select count(*) from post_changes where workspace_id = @w", ("w", user.Id)))! == 0,
            "the pruning");
        var expired = await Expect.Status(StatusCode.FailedPrecondition, () => Watcher.FirstMessageAsync(fixture, user, new WatchPostsRequest { ResumeToken = oldToken }));
        Assert.Contains("list the posts again", expired.Status.Detail, StringComparison.Ordinal);
        await Expect.BadFields(() => Watcher.FirstMessageAsync(fixture, user, new WatchPostsRequest { ResumeToken = "not-a-token" }), "resume_token");
    }

    private async Task<List<long>> RecordedChangeIdsAsync(Guid workspaceId)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select id from post_changes where workspace_id = @w", connection);
        query.Parameters.AddWithValue("w", workspaceId);
        var ids = new List<long>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetInt64(0));
        }
        return ids;
    }

    private static async Task WaitUntil(Func<bool> done, string what) => await WaitUntil(() => Task.FromResult(done()), what);

    private static async Task WaitUntil(Func<Task<bool>> done, string what) =>
        await SocialSync.Testing.Polling.UntilAsync(done, ok => ok, Patience, what);

    /// <summary>One open WatchPosts stream, read in the background: its changes, its messages and the last token.</summary>
    private sealed class Watcher : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly TaskCompletionSource<string> _firstToken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<PostChange> _changes;
        private Task _reading = Task.CompletedTask;
        private int _messages;
        private string _lastToken = "";

        private Watcher(IEnumerable<PostChange> before) => _changes = new(before);

        public List<PostChange> Changes => [.. _changes];

        public int Messages => Volatile.Read(ref _messages);

        /// <summary>How the stream ended, when it did.</summary>
        public Exception? Failure { get; private set; }

        public string LastToken => Volatile.Read(ref _lastToken);

        public static Watcher Start(PostsServiceFixture fixture, TestUser user, WatchPostsRequest request, IEnumerable<PostChange>? before = null)
        {
            var watcher = new Watcher(before ?? []);
            watcher._reading = watcher.ReadAsync(fixture.Watch.WatchPosts(request, user.Headers, cancellationToken: watcher._stop.Token));
            return watcher;
        }

        /// <summary>The stream's first message, or its failure.</summary>
        public static async Task<WatchPostsResponse> FirstMessageAsync(PostsServiceFixture fixture, TestUser user, WatchPostsRequest request)
        {
            using var call = fixture.Watch.WatchPosts(request, user.Headers, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            return call.ResponseStream.Current;
        }

        private async Task ReadAsync(AsyncServerStreamingCall<WatchPostsResponse> call)
        {
            using (call)
            {
                try
                {
                    await foreach (var message in call.ResponseStream.ReadAllAsync(_stop.Token))
                    {
                        foreach (var change in message.Changes)
                        {
                            _changes.Enqueue(change);
                        }
                        Assert.NotEmpty(message.ResumeToken);
                        Volatile.Write(ref _lastToken, message.ResumeToken);
                        Interlocked.Increment(ref _messages);
                        _firstToken.TrySetResult(message.ResumeToken);
                    }
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException)
                {
                    Failure = ex;
                    _firstToken.TrySetException(ex);
                }
            }
        }

        public Task<string> FirstTokenAsync() => _firstToken.Task.WaitAsync(Patience);

        /// <summary>Completes when the stream has ended (the service went away).</summary>
        public Task EndedAsync() => _reading.WaitAsync(Patience);

        /// <summary>The changes once <paramref name="done"/> holds; fails at once, with the reason, when the stream ends first.</summary>
        public async Task<List<PostChange>> UntilAsync(Func<List<PostChange>, bool> done, string what)
        {
            var changes = await SocialSync.Testing.Polling.UntilAsync(() => Task.FromResult(Changes), c => done(c) || _reading.IsCompleted, Patience, what);
            return done(changes) ? changes : throw new InvalidOperationException($"The watch ended before {what} ({changes.Count} changes): {Failure}");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reading;
            _stop.Dispose();
        }
    }
}
