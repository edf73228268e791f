using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Chaos;

/// <summary>A user's channel; its posts need approval when <see cref="Reviewer"/> is set (that member approves them).</summary>
public sealed record ChaosChannel(Guid UserId, string ChannelId, Platform Platform, string AccountId, Guid? Reviewer = null)
{
    public Metadata Auth => TestTokens.ForUser(UserId);
}

public enum Mutation
{
    None,
    Move,
    Cancel,
}

/// <summary>One post of the run: what was planned, and what the client saw when it made or changed it.</summary>
public sealed class PlannedPost
{
    public required int Index { get; init; }
    public required string Marker { get; init; }
    public required ChaosChannel Channel { get; init; }
    public required DateTimeOffset PublishAt { get; init; }
    public bool Burst { get; init; }
    public bool Live { get; init; }
    public Mutation Mutation { get; init; }
    /// <summary>How long before the post is due the move or cancel is sent (negative: just after).</summary>
    public TimeSpan MutationLead { get; init; }
    public DateTimeOffset MovedTo { get; init; }

    public string? PostId { get; set; }
    public string? CreateError { get; set; }
    public bool? MutationApplied { get; set; }
    public string? MutationNote { get; set; }

    public string Text => $"Chaos post {Marker}: the minute chosen, and never twice.";
}

/// <summary>
/// Users, channels and posts for a run, and the client side of it: creates (idempotent through request_id, so a
/// create retried across a crash is made once), moves and cancels sent just before posts come due.
/// </summary>
public sealed class Workload(ChaosOptions options, SocialSyncSystem system, string runTag, TextWriter log)
{
    private static readonly StatusCode[] Retryable =
        [StatusCode.Unavailable, StatusCode.DeadlineExceeded, StatusCode.Internal, StatusCode.Unknown, StatusCode.Aborted, StatusCode.Cancelled];

    private readonly Random _random = new(options.Seed);

    public List<ChaosChannel> Channels { get; } = [];

    public List<PlannedPost> Posts { get; } = [];

    /// <summary>How many posts an editor approved before they were published (the first user's channels need approval).</summary>
    public int Approved => _approved;

    private int _approved;

    public bool UpdatePostAvailable { get; private set; } = true;

    public static string WhatsAppRecipient(int user) => $"+1650555{user:D4}";

    public async Task CreateChannelsAsync(IReadOnlyCollection<Platform> platforms)
    {
        for (var u = 0; u < options.Users; u++)
        {
            var userId = Guid.NewGuid();
            // The first user's posts go through approval: a teammate (an editor of their personal workspace) approves each.
            var reviewer = u == 0 ? await AddReviewerAsync(userId) : (Guid?)null;
            foreach (var platform in platforms)
            {
                var account = platform == Platform.Whatsapp
                    ? (1_000_000_000_000L + (options.Seed % 1000) * 1000 + u).ToString(CultureInfo.InvariantCulture)
                    : (17_841_400_000_000_000L + (options.Seed % 1000) * 1000 + u).ToString(CultureInfo.InvariantCulture);
                var request = new CreateChannelRequest
                {
                    Platform = platform,
                    AccountId = account,
                    AccessToken = $"EAAchaos{runTag}{u}{platform}",
                    DisplayName = $"chaos {platform} {u}",
                    Settings = platform == Platform.Whatsapp
                        ? new ChannelSettings { Recipients = { WhatsAppRecipient(u) } }
                        : new ChannelSettings { InstagramMode = InstagramMode.Feed },
                };
                request.Settings.RequiresApproval = reviewer is not null;
                var channel = await CallAsync(ct => system.ChannelClient.CreateChannelAsync(request, TestTokens.ForUser(userId), DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
                    DateTimeOffset.UtcNow.AddSeconds(60), CancellationToken.None);
                // Instagram's daily publishing quota (50 by default) would defer most of a large run by a day.
                await system.Emulator.ConfigureAccountAsync(account, new { quotaTotal = 1_000_000 });
                Channels.Add(new ChaosChannel(userId, channel.Id, platform, account, reviewer));
            }
        }
    }

    private async Task<Guid> AddReviewerAsync(Guid owner)
    {
        var reviewer = Guid.NewGuid();
        var giveUp = DateTimeOffset.UtcNow.AddSeconds(60);
        // The owner's personal workspace has the owner's id; listing the workspaces makes it.
        await CallAsync(ct => system.WorkspaceClient.ListWorkspacesAsync(new ListWorkspacesRequest(), TestTokens.ForUser(owner), DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
            giveUp, CancellationToken.None);
        var invitation = await CallAsync(ct => system.WorkspaceClient.CreateInvitationAsync(
            new CreateInvitationRequest { WorkspaceId = owner.ToString(), Role = WorkspaceRole.Editor }, TestTokens.ForUser(owner), DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
            giveUp, CancellationToken.None);
        await CallAsync(ct => system.WorkspaceClient.AcceptInvitationAsync(
            new AcceptInvitationRequest { Token = invitation.Token }, TestTokens.ForUser(reviewer), DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
            giveUp, CancellationToken.None);
        return reviewer;
    }

    /// <summary>The steady stream over the window, bursts at fixed instants, and which posts get moved or cancelled.</summary>
    public void Plan(DateTimeOffset windowStart)
    {
        var window = options.Window;
        var burstPosts = options.Bursts > 0 ? (int)(options.Posts * options.BurstShare) : 0;
        var burstInstants = Enumerable.Range(1, Math.Max(options.Bursts, 0))
            .Select(k => windowStart + window * k / (options.Bursts + 1) + TimeSpan.FromMilliseconds(_random.Next(0, 1000)))
            .ToArray();
        for (var i = 0; i < options.Posts; i++)
        {
            var burst = i < burstPosts;
            var publishAt = burst
                ? burstInstants[i % burstInstants.Length]
                : windowStart + window * _random.NextDouble();
            var channel = Channels[_random.Next(Channels.Count)];
            // A post that needs approval is made up front: one made seconds before it is due, while the faults run,
            // may get its approval only after its time, and then it rightly expires instead of going out late.
            var live = !burst && channel.Reviewer is null && publishAt - windowStart > TimeSpan.FromSeconds(25)
                && _random.NextDouble() < options.LiveCreateShare;
            var roll = _random.NextDouble();
            // A post that needs approval is not moved or cancelled here: a move would need a new approval in the
            // seconds before it is due, which the run does not model.
            var mutation = channel.Reviewer is not null ? Mutation.None
                : roll < options.EditShare ? Mutation.Move
                : roll < options.EditShare + options.CancelShare ? Mutation.Cancel
                : Mutation.None;
            // Most changes come a few seconds before the due time; some race the claim itself.
            var lead = _random.NextDouble() < 0.25
                ? TimeSpan.FromMilliseconds(_random.Next(-200, 400))
                : TimeSpan.FromMilliseconds(_random.Next(500, 4000));
            Posts.Add(new PlannedPost
            {
                Index = i,
                Marker = $"chaos-{runTag}-{i:D5}",
                Channel = channel,
                PublishAt = publishAt,
                Burst = burst,
                Live = live,
                Mutation = mutation,
                MutationLead = lead,
                MovedTo = publishAt + TimeSpan.FromSeconds(_random.Next(3, 20)),
            });
        }
    }

    /// <summary>Creates every post that is not created live, earliest first.</summary>
    public async Task CreateUpFrontAsync(CancellationToken cancellationToken)
    {
        var upFront = Posts.Where(p => !p.Live).OrderBy(p => p.PublishAt).ToList();
        await Parallel.ForEachAsync(upFront, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (post, ct) => await CreateAsync(post, ct));
    }

    /// <summary>Creates the live posts while the faults run, each about ten seconds before it is due.</summary>
    public async Task CreateLiveAsync(CancellationToken cancellationToken)
    {
        var tasks = Posts.Where(p => p.Live).Select(async post =>
        {
            await DelayUntilAsync(post.PublishAt - TimeSpan.FromSeconds(10), cancellationToken);
            await CreateAsync(post, cancellationToken);
        });
        await Task.WhenAll(tasks);
    }

    /// <summary>Moves and cancels, each sent just before its post is due.</summary>
    public async Task MutateAsync(CancellationToken cancellationToken)
    {
        var tasks = Posts.Where(p => p.Mutation != Mutation.None).Select(async post =>
        {
            await DelayUntilAsync(post.PublishAt - post.MutationLead, cancellationToken);
            if (post.PostId is null)
            {
                post.MutationNote = "not created";
                return;
            }
            try
            {
                if (post.Mutation == Mutation.Move)
                {
                    await MoveAsync(post, cancellationToken);
                }
                else
                {
                    await CancelAsync(post, cancellationToken);
                }
            }
            catch (RpcException ex)
            {
                post.MutationApplied = false;
                post.MutationNote = $"{ex.StatusCode}: {ex.Status.Detail}";
            }
        });
        await Task.WhenAll(tasks);
    }

    private async Task CreateAsync(PlannedPost post, CancellationToken cancellationToken)
    {
        var content = new Content { Text = post.Text };
        if (post.Channel.Platform == Platform.Instagram)
        {
            content.Media.Add(new Media { Type = MediaType.Image, Url = $"https://cdn.example.com/chaos/{post.Marker}.jpg" });
        }
        var request = new CreatePostRequest
        {
            ChannelId = post.Channel.ChannelId,
            Content = content,
            PublishAt = Timestamp.FromDateTimeOffset(post.PublishAt),
            RequestId = post.Marker,
        };
        try
        {
            var created = await CallAsync(ct => system.PostClient.CreatePostAsync(request, post.Channel.Auth, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
                DateTimeOffset.UtcNow.AddSeconds(90), cancellationToken);
            post.PostId = created.Id;
            if (post.Channel.Reviewer is { } reviewer && created.Status == PostStatus.PendingApproval)
            {
                await ApproveAsync(created, reviewer, cancellationToken);
            }
        }
        catch (RpcException ex)
        {
            post.CreateError = $"{ex.StatusCode}: {ex.Status.Detail}";
        }
    }

    private async Task ApproveAsync(ScheduledPost created, Guid reviewer, CancellationToken cancellationToken)
    {
        var request = new ApprovePostRequest { Id = created.Id, Etag = created.Etag };
        try
        {
            await CallAsync(ct => system.PostClient.ApprovePostAsync(request, TestTokens.ForUser(reviewer), DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
                DateTimeOffset.UtcNow.AddSeconds(90), cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && ex.Status.Detail.Contains("this one is queued", StringComparison.Ordinal))
        {
            // A retry after a lost answer: the first call approved it.
        }
        Interlocked.Increment(ref _approved);
    }

    private async Task MoveAsync(PlannedPost post, CancellationToken cancellationToken)
    {
        if (!UpdatePostAvailable)
        {
            post.MutationNote = "UpdatePost is not implemented";
            return;
        }
        var request = new UpdatePostRequest
        {
            Id = post.PostId,
            PublishAt = Timestamp.FromDateTimeOffset(post.MovedTo),
            UpdateMask = new FieldMask { Paths = { "publish_at" } },
        };
        try
        {
            await CallAsync(ct => system.PostClient.UpdatePostAsync(request, post.Channel.Auth, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
                post.PublishAt + TimeSpan.FromSeconds(2), cancellationToken);
            post.MutationApplied = true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
        {
            UpdatePostAvailable = false;
            post.MutationNote = "UpdatePost is not implemented";
        }
    }

    private async Task CancelAsync(PlannedPost post, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(ct => system.PostClient.CancelPostAsync(new CancelPostRequest { Id = post.PostId }, post.Channel.Auth, DateTime.UtcNow.AddSeconds(10), ct).ResponseAsync,
                post.PublishAt + TimeSpan.FromSeconds(2), cancellationToken);
            post.MutationApplied = true;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && ex.Status.Detail.Contains("already cancelled", StringComparison.Ordinal))
        {
            // A retry after a lost answer: the first call did it.
            post.MutationApplied = true;
        }
    }

    /// <summary>Retries calls that failed because a process or the database was down, until <paramref name="giveUpAt"/>.</summary>
    public async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, DateTimeOffset giveUpAt, CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                return await call(cancellationToken);
            }
            catch (RpcException ex) when (Retryable.Contains(ex.StatusCode) && DateTimeOffset.UtcNow < giveUpAt && !cancellationToken.IsCancellationRequested)
            {
                if (failures == 1)
                {
                    log.WriteLine($"  client: {ex.StatusCode} ({Trim(ex.Status.Detail)}); retrying");
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * failures)), cancellationToken);
            }
        }
    }

    private static string Trim(string text) => text.Length > 80 ? text[..80] + "…" : text;

    internal static async Task DelayUntilAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var wait = at - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }
}
