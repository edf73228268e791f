using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using Xunit.Abstractions;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.Observability.Tests;

/// <summary>
/// The whole system as processes, each exporting its spans to a file in one folder, with the telemetry settings the
/// AppHost gives them (a sampler that records every span unless told otherwise).
/// </summary>
public sealed class TracedSystem : IAsyncLifetime
{
    public string SpanDirectory { get; } = SpanFiles.NewDirectory();

    public SocialSyncSystem System { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = AppHostTelemetry.Environment.ToDictionary(e => e.Key, e => (string?)e.Value);
        settings["Telemetry__SpanDirectory"] = SpanDirectory;
        settings["Retry__BaseDelay"] = "00:00:01";
        settings["Retry__JitterRatio"] = "0";
        System = await SocialSyncSystem.StartAsync(new SystemOptions { Settings = settings });
    }

    public async Task DisposeAsync() => await System.DisposeAsync();

    public List<Span> Spans() => SpanFiles.Read(SpanDirectory);
}

public sealed class TraceChainTests(TracedSystem traced, ITestOutputHelper output) : IClassFixture<TracedSystem>
{
    private static readonly TimeSpan Eventually = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task One_post_is_one_trace_from_create_through_hand_over_dispatch_publish_each_graph_call_and_outcome()
    {
        var token = $"EAAG-secret-{Guid.NewGuid():N}";
        var (post, channel) = await CreatePostAsync(token);
        await WaitForStatusAsync(post, PostStatus.Published);
        var spans = await WaitForSpansAsync(s => s.Name == Spans.RecordOutcome && s.Tag(Tags.PostId) == post.Id);

        var create = Assert.Single(spans, s => s.Kind == "Server" && s.Name.Contains("CreatePost", StringComparison.Ordinal) && s.Tag(Tags.PostId) == post.Id);
        var trace = create.TraceId;
        output.WriteLine(SpanFiles.Tree(spans, trace));
        Assert.Equal(channel.Id, create.Tag(Tags.ChannelId));
        Assert.Equal("whatsapp", create.Tag(Tags.Platform));

        // Hand-over: the relay indexed the post, in the post's trace, linked to its batch.
        var scheduled = Assert.Single(spans, s => s.Name == Spans.SchedulePost && s.Tag(Tags.PostId) == post.Id);
        Assert.Equal(trace, scheduled.TraceId);
        Assert.Equal(create.SpanId, scheduled.ParentSpanId);
        var relayBatch = await LinkedSpanAsync(scheduled);
        Assert.Equal(Spans.RelayBatch, relayBatch.Name);
        // Redis commands are exported in batches (every few seconds): the index write (a versioned ZADD, run as a
        // Lua script) shows up in the relay's trace.
        await WaitForSpansAsync(s => s.TraceId == relayBatch.TraceId && s.Tag("db.system") == "redis"
            && s.Name is "ZADD" or "EVAL" or "EVALSHA");

        // Dispatch: the claim, per post, in the post's trace, linked to the claim batch.
        var dispatch = Assert.Single(spans, s => s.Name == Spans.DispatchPost && s.Tag(Tags.PostId) == post.Id);
        Assert.Equal(trace, dispatch.TraceId);
        Assert.Equal(create.SpanId, dispatch.ParentSpanId);
        Assert.Equal("1", dispatch.Tag(Tags.Attempt));
        Assert.Equal(channel.Id, dispatch.Tag(Tags.ChannelId));
        Assert.Equal("whatsapp", dispatch.Tag(Tags.Platform));
        if (dispatch.Tag(Tags.DispatchPath) == "index")
        {
            var claimBatch = await LinkedSpanAsync(dispatch);
            Assert.Equal(Spans.ClaimBatch, claimBatch.Name);
            await WaitForSpansAsync(s => s.TraceId == claimBatch.TraceId && s.Kind == "Server" && s.Name.Contains("ClaimDuePosts", StringComparison.Ordinal));
        }

        // PublisherService: the attempt, a child of the dispatch, linked to the PublishPosts batch call.
        var publish = Assert.Single(spans, s => s.Name == Spans.PublishPost && s.Tag(Tags.PostId) == post.Id);
        Assert.Equal(trace, publish.TraceId);
        Assert.Equal(dispatch.SpanId, publish.ParentSpanId);
        Assert.Equal("PublisherService", publish.Service);
        Assert.Equal("published", publish.Tag(Tags.Outcome));
        Assert.Equal(channel.Id, publish.Tag(Tags.ChannelId));
        var publishBatch = await LinkedSpanAsync(publish);
        Assert.Contains("PublishPosts", publishBatch.Name, StringComparison.Ordinal);

        // The batch's attempts are recorded in PostsService (one StartRuns call) before any platform call.
        await WaitForSpansAsync(s => s.TraceId == publishBatch.TraceId && s.Service == "PostsService" && s.Kind == "Server"
            && s.Name.Contains("StartRuns", StringComparison.Ordinal));

        // Each Graph API call, inside the attempt.
        var graphCall = Assert.Single(spans, s => s.TraceId == trace && s.Kind == "Client" && s.ParentSpanId == publish.SpanId
            && (s.Tag("url.full") ?? "").EndsWith("/messages", StringComparison.Ordinal));
        Assert.Equal("200", graphCall.Tag("http.response.status_code"));

        // The outcome report, recorded in PostsService as a child of the attempt.
        var outcome = Assert.Single(spans, s => s.Name == Spans.RecordOutcome && s.Tag(Tags.PostId) == post.Id);
        Assert.Equal(trace, outcome.TraceId);
        Assert.Equal(publish.SpanId, outcome.ParentSpanId);
        Assert.Equal("published", outcome.Tag(Tags.Outcome));
        Assert.Equal("published", outcome.Tag(Tags.Status));
        Assert.Contains("ReportOutcomes", (await LinkedSpanAsync(outcome)).Name, StringComparison.Ordinal);

        // Never an access token, in any span of any service.
        var leaks = spans.Where(s => s.Tags.Values.Any(v => v.Contains(token, StringComparison.Ordinal))).ToList();
        Assert.True(leaks.Count == 0, $"spans carrying the access token: {string.Join(", ", leaks)}");
    }

    [Fact]
    public async Task A_retry_starts_a_new_trace_linked_to_the_attempt_that_decided_it()
    {
        var (post, channel) = await CreatePostAsync($"EAAG-{Guid.NewGuid():N}", async account =>
            await traced.System.Emulator.AddFaultAsync(new { match = new { account }, code = 1, status = 500, isTransient = true, times = 1 }));
        await WaitForStatusAsync(post, PostStatus.Published);
        var spans = await WaitForSpansAsync(s => s.Name == Spans.RecordOutcome && s.Tag(Tags.PostId) == post.Id && s.Tag(Tags.Attempt) == "2");

        var first = Assert.Single(spans, s => s.Name == Spans.RecordOutcome && s.Tag(Tags.PostId) == post.Id && s.Tag(Tags.Attempt) == "1");
        Assert.Equal("transient_failure", first.Tag(Tags.Outcome));
        Assert.Equal("queued", first.Tag(Tags.Status));
        var retry = Assert.Single(spans, s => s.Name == Spans.RetryPost && s.Tag(Tags.PostId) == post.Id);
        Assert.Equal("", retry.ParentSpanId);
        Assert.NotEqual(first.TraceId, retry.TraceId);
        Assert.Contains((first.TraceId, first.SpanId), retry.Links);
        output.WriteLine(SpanFiles.Tree(spans, first.TraceId));
        output.WriteLine("");
        output.WriteLine(SpanFiles.Tree(spans, retry.TraceId));

        // The second attempt's whole chain lives in the retry's trace.
        var dispatch = Assert.Single(spans, s => s.Name == Spans.DispatchPost && s.Tag(Tags.PostId) == post.Id && s.Tag(Tags.Attempt) == "2");
        Assert.Equal(retry.TraceId, dispatch.TraceId);
        Assert.Contains(spans, s => s.Name == Spans.SchedulePost && s.Tag(Tags.PostId) == post.Id && s.TraceId == retry.TraceId);
        var publish = Assert.Single(spans, s => s.Name == Spans.PublishPost && s.Tag(Tags.PostId) == post.Id && s.Tag(Tags.Attempt) == "2");
        Assert.Equal(dispatch.SpanId, publish.ParentSpanId);
        var second = Assert.Single(spans, s => s.Name == Spans.RecordOutcome && s.Tag(Tags.PostId) == post.Id && s.Tag(Tags.Attempt) == "2");
        Assert.Equal(retry.TraceId, second.TraceId);
        Assert.Equal("published", second.Tag(Tags.Status));
        Assert.Equal(channel.Id, second.Tag(Tags.ChannelId));
    }

    [Fact]
    public async Task Idle_background_polls_make_no_traces()
    {
        // Let whatever is in flight (start-up, other tests' posts) settle, then watch an idle system for a while: the
        // safety net polls PostsService every second (25 times here), the relay's 10 s long poll returns twice, the
        // gauges query PostgreSQL and Redis every 5 s. The services sample always_on, as under the AppHost.
        var before = await SettledSpanCountAsync();
        await Task.Delay(TimeSpan.FromSeconds(25));
        var spans = traced.Spans();
        var added = spans.Count - before;
        var newest = spans.OrderByDescending(s => s.Start).Take(Math.Max(0, added)).ToList();
        Assert.True(added == 0, $"{added} spans while idle: {string.Join("; ", newest)}");
    }

    private async Task<int> SettledSpanCountAsync()
    {
        var count = traced.Spans().Count;
        // Bounded: a system that never goes quiet is what the idle test reports, not a reason to wait forever.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var stable = 0; stable < 3 && DateTime.UtcNow < deadline;)
        {
            await Task.Delay(1000);
            var now = traced.Spans().Count;
            stable = now == count ? stable + 1 : 0;
            count = now;
        }
        return count;
    }

    /// <summary>The span <paramref name="span"/> links to; a batch span ends (and is exported) after its posts' spans.</summary>
    private async Task<Span> LinkedSpanAsync(Span span)
    {
        var link = Assert.Single(span.Links);
        var spans = await WaitForSpansAsync(s => s.TraceId == link.TraceId && s.SpanId == link.SpanId);
        return Assert.Single(spans, s => s.TraceId == link.TraceId && s.SpanId == link.SpanId);
    }

    private async Task<(ScheduledPost Post, Channel Channel)> CreatePostAsync(string accessToken, Func<string, Task>? prepare = null)
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var account = $"pn-{Guid.NewGuid():N}"[..16];
        if (prepare is not null)
        {
            await prepare(account);
        }
        var channel = await traced.System.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = account,
            AccessToken = accessToken,
            DisplayName = "Observability",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);
        var post = await traced.System.PostClient.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = $"Traced {Guid.NewGuid():N}" },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(2)),
        }, auth);
        _auth[post.Id] = auth;
        return (post, channel);
    }

    private readonly Dictionary<string, Grpc.Core.Metadata> _auth = [];

    private async Task WaitForStatusAsync(ScheduledPost post, PostStatus status)
    {
        var final = await Polling.UntilAsync(
            async () => await traced.System.PostClient.GetPostAsync(new GetPostRequest { Id = post.Id }, _auth[post.Id]),
            p => p.Status == status || p.Status is PostStatus.Failed or PostStatus.Unconfirmed,
            Eventually, $"post {post.Id} to be {status}");
        Assert.Equal(status, final.Status);
    }

    private async Task<List<Span>> WaitForSpansAsync(Func<Span, bool> last) =>
        await Polling.UntilAsync(() => Task.FromResult(traced.Spans()), spans => spans.Any(last), TimeSpan.FromSeconds(20), "the last span");
}
