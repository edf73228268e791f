using System.Diagnostics;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults;
using static SocialSync.ServiceDefaults.SocialSyncTelemetry;

namespace SocialSync.PostsService.Data;

/// <summary>
/// Group commit for CreatePost: the creates that arrive while a write is in flight go into PostgreSQL together, one
/// transaction and one INSERT per user among them, instead of one transaction (and one WAL flush) each. A lone
/// create is written at once, so nothing waits for a batch to fill. Each call still returns only after its post is
/// committed, and gets its own answer: one post's bad channel or content does not fail its neighbours.
/// </summary>
public sealed partial class CreatePostBatcher(PostsDatabase database, ScheduleChangeNotifier scheduleChanges, PostsMetrics metrics,
    IConfiguration configuration, ILogger<CreatePostBatcher> logger) : BackgroundService
{
    private readonly System.Threading.Channels.Channel<PendingCreate> _pending = System.Threading.Channels.Channel.CreateUnbounded<PendingCreate>();
    private readonly int _writers = configuration.GetValue("Posts:CreateWriters", 4);
    private readonly int _maxBatch = configuration.GetValue("Posts:CreateBatchMax", 256);

    /// <summary>Creates one post as <paramref name="userId"/>; returns it once committed.</summary>
    public async Task<ScheduledPost> CreateAsync(Guid userId, NewPost post, CancellationToken cancellationToken)
    {
        var pending = new PendingCreate(userId, post, cancellationToken);
        if (!_pending.Writer.TryWrite(pending))
        {
            throw new ServiceStoppingException();
        }
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.WhenAll(Enumerable.Range(0, _writers).Select(_ => WriteLoopAsync(stoppingToken)));
        }
        finally
        {
            _pending.Writer.TryComplete();
            while (_pending.Reader.TryRead(out var left))
            {
                left.Completion.TrySetException(new ServiceStoppingException());
            }
        }
    }

    private async Task WriteLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<PendingCreate>(_maxBatch);
        try
        {
            while (await _pending.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < _maxBatch && _pending.Reader.TryRead(out var next))
                {
                    if (next.Cancellation.IsCancellationRequested)
                    {
                        next.Completion.TrySetCanceled(next.Cancellation);
                        continue;
                    }
                    batch.Add(next);
                }
                if (batch.Count > 0)
                {
                    await WriteAsync(batch);
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAsync(List<PendingCreate> batch)
    {
        try
        {
            await WriteTogetherAsync(batch);
        }
        catch (PostgresException e) when (batch.Count > 1)
        {
            // A statement failed, so the transaction rolled back and nothing of it was committed: write each post
            // alone, so the one at fault gets the error and the others their posts.
            LogBatchRetriedAlone(batch.Count, e.SqlState);
            foreach (var pending in batch)
            {
                await WriteAloneAsync(pending);
            }
        }
        catch (Exception e)
        {
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(e);
            }
        }
    }

    private async Task WriteAloneAsync(PendingCreate pending)
    {
        try
        {
            await WriteTogetherAsync([pending]);
        }
        catch (Exception e)
        {
            pending.Completion.TrySetException(e);
        }
    }

    private async Task WriteTogetherAsync(IReadOnlyList<PendingCreate> batch)
    {
        using var span = StartWriteSpan(batch);
        var results = new InsertResult[batch.Count];
        var errors = new Exception?[batch.Count];
        var users = Enumerable.Range(0, batch.Count).GroupBy(i => batch[i].UserId).Select(g => (UserId: g.Key, Indexes: g.ToList())).ToList();
        await using (var connection = await database.App.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var channels = await PostInserts.LoadChannelsAsync(connection, transaction,
                users.Select(u => (u.UserId, u.Indexes.Select(i => batch[i].Post.ChannelId).Distinct().ToArray())).ToList(), CancellationToken.None);
            var inserts = new List<(Guid UserId, IReadOnlyList<NewPost> Posts, IReadOnlyDictionary<Guid, PostingChannel> Channels)>(users.Count);
            var insertIndexes = new List<List<int>>(users.Count);
            for (var u = 0; u < users.Count; u++)
            {
                var valid = users[u].Indexes.Where(i => CheckChannel(batch[i].Post, channels[u], out errors[i])).ToList();
                if (valid.Count > 0)
                {
                    inserts.Add((users[u].UserId, valid.Select(i => batch[i].Post).ToList(), channels[u]));
                    insertIndexes.Add(valid);
                }
            }
            if (inserts.Count > 0)
            {
                var created = await PostInserts.InsertAsync(connection, transaction, inserts, CancellationToken.None);
                for (var u = 0; u < inserts.Count; u++)
                {
                    for (var k = 0; k < insertIndexes[u].Count; k++)
                    {
                        results[insertIndexes[u][k]] = created[u][k];
                    }
                }
            }
            await transaction.CommitAsync();
        }

        scheduleChanges.Pulse();
        for (var i = 0; i < batch.Count; i++)
        {
            if (results[i].Post is { } post)
            {
                metrics.PostCreated(post.Platform);
                batch[i].Completion.TrySetResult(post);
            }
            else
            {
                batch[i].Completion.TrySetException(errors[i] ?? results[i].Refusal ?? ConcurrentChangeException.RepeatInFlight());
            }
        }
    }

    /// <summary>The post's channel is the user's and live, and the content fits it; else <paramref name="error"/> says why.</summary>
    private static bool CheckChannel(NewPost post, Dictionary<Guid, PostingChannel> channels, out Exception? error)
    {
        var violations = new FieldViolations();
        error = post.CheckChannel(channels, violations) ?? (violations.Any ? violations.ToException() : null);
        return error is null;
    }

    /// <summary>The write's span: in the trace of the (first) create it carries, linked to the others'.</summary>
    private static Activity? StartWriteSpan(IReadOnlyList<PendingCreate> batch)
    {
        ActivityContext.TryParse(batch[0].Post.Traceparent, null, out var parent);
        var links = batch.Skip(1).Take(MaxLinks)
            .Select(p => ActivityContext.TryParse(p.Post.Traceparent, null, out var context) ? new ActivityLink(context) : default)
            .Where(link => link.Context != default)
            .ToList();
        return SocialSyncTelemetry.ActivitySource.StartActivity(Spans.WritePosts, ActivityKind.Internal, parent, [new(Tags.BatchSize, batch.Count)], links);
    }

    private const int MaxLinks = 32;

    private sealed record PendingCreate(Guid UserId, NewPost Post, CancellationToken Cancellation)
    {
        public TaskCompletionSource<ScheduledPost> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} creates failed in PostgreSQL ({SqlState}); writing each alone")]
    private partial void LogBatchRetriedAlone(int count, string sqlState);
}
