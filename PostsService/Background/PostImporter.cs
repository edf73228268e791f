using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Grpc;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Background;

/// <summary>
/// One import's long-running operation (AIP-151): its progress while the importer writes it, its result once done.
/// Held in this process's memory for <see cref="PostImporter.Retention"/> after it ends; the posts it wrote are what
/// lasts, and sending the same file again resumes or repeats the import harmlessly.
/// </summary>
public sealed class ImportJob(Guid userId, string fileSha256, IReadOnlyList<NewPost> posts, DateTimeOffset now)
{
    private readonly Lock _lock = new();
    private readonly ImportOperation _operation = new()
    {
        Name = $"operations/import-{Guid.NewGuid():N}",
        Metadata = new ImportPostsMetadata
        {
            FileSha256 = fileSha256,
            TotalRows = posts.Count,
            CreateTime = Timestamp.FromDateTimeOffset(now),
            UpdateTime = Timestamp.FromDateTimeOffset(now),
        },
    };

    public Guid UserId { get; } = userId;
    public string Name => _operation.Name;
    public string FileSha256 { get; } = fileSha256;
    /// <summary>The rows to write; let go once the import ends, as its operation is kept for an hour and they are not.</summary>
    public IReadOnlyList<NewPost> Posts { get; private set; } = posts;
    public DateTimeOffset? EndedAt { get; private set; }

    public ImportOperation Snapshot()
    {
        lock (_lock)
        {
            return _operation.Clone();
        }
    }

    public bool Done
    {
        get
        {
            lock (_lock)
            {
                return _operation.Done;
            }
        }
    }

    public void Progress(int rows, int created, int existing, DateTimeOffset now)
    {
        lock (_lock)
        {
            _operation.Metadata.ProcessedRows += rows;
            _operation.Response ??= new ImportPostsResponse();
            _operation.Response.CreatedPosts += created;
            _operation.Response.ExistingPosts += existing;
            _operation.Metadata.UpdateTime = Timestamp.FromDateTimeOffset(now);
        }
    }

    public void Finish(DateTimeOffset now, RpcException? failure = null)
    {
        lock (_lock)
        {
            _operation.Response ??= new ImportPostsResponse();
            if (failure is not null)
            {
                _operation.Error = new ImportError { Code = (int)failure.StatusCode, Message = failure.Status.Detail };
                _operation.Response = null;
            }
            _operation.Metadata.UpdateTime = Timestamp.FromDateTimeOffset(now);
            _operation.Done = true;
            EndedAt = now;
            Posts = [];
        }
    }
}

/// <summary>
/// Writes checked imports in the background, one chunk of <see cref="RateLimitOptions.MaxBatchCreate"/> rows per
/// transaction, each chunk taking its posts from the user's create bucket (waiting for it to refill rather than
/// failing half-way). A chunk that fails ends the import with the chunks before it written; since every row's
/// request_id is the file's hash and the row, sending the file again writes only the rest.
/// </summary>
public sealed partial class PostImporter(PostTransferStore store, UserRateLimits limits, ScheduleChangeNotifier scheduleChanges,
    PostsMetrics metrics, TimeProvider time, ILogger<PostImporter> log) : BackgroundService
{
    /// <summary>How long an ended import's operation stays readable.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, ImportJob> _jobs = new(StringComparer.Ordinal);
    private readonly System.Threading.Channels.Channel<ImportJob> _queue = System.Threading.Channels.Channel.CreateUnbounded<ImportJob>();

    /// <summary>Queues a checked import; the user's import of the same file that is still running is answered instead.</summary>
    public ImportJob Start(Guid userId, string fileSha256, IReadOnlyList<NewPost> posts)
    {
        var now = time.GetUtcNow();
        foreach (var name in _jobs.Where(j => j.Value.EndedAt < now - Retention).Select(j => j.Key).ToList())
        {
            _jobs.TryRemove(name, out _);
        }
        if (_jobs.Values.FirstOrDefault(j => j.UserId == userId && j.FileSha256 == fileSha256 && !j.Done) is { } running)
        {
            return running;
        }
        var job = new ImportJob(userId, fileSha256, posts, now);
        _jobs[job.Name] = job;
        if (!_queue.Writer.TryWrite(job))
        {
            throw new ServiceStoppingException();
        }
        return job;
    }

    /// <summary>The user's import named <paramref name="name"/>, or null (another user's is absent too).</summary>
    public ImportJob? Find(Guid userId, string name) =>
        _jobs.TryGetValue(name, out var job) && job.UserId == userId ? job : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        try
        {
            await foreach (var job in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                running.RemoveAll(task => task.IsCompleted);
                // Each import runs on its own: one user's import waiting for their create bucket holds up no one else's.
                running.Add(ImportAsync(job, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running);
    }

    private async Task ImportAsync(ImportJob job, CancellationToken stoppingToken)
    {
        var rows = job.Posts.Count;
        try
        {
            foreach (var chunk in job.Posts.Chunk(limits.Options.MaxBatchCreate))
            {
                await limits.TakeCreatesWaitingAsync(job.UserId, chunk.Length, time, stoppingToken);
                var written = await store.WriteChunkAsync(job.UserId, chunk, stoppingToken);
                foreach (var post in written.Created)
                {
                    metrics.PostCreated(post.Platform);
                }
                scheduleChanges.Pulse();
                job.Progress(chunk.Length, written.Created.Count, written.Existing, time.GetUtcNow());
            }
            job.Finish(time.GetUtcNow());
            LogImported(job.Name, rows);
        }
        catch (DomainException refused)
        {
            job.Finish(time.GetUtcNow(), ExceptionMappingInterceptor.ToRpcException(refused));
            LogImportFailed(job.Name, refused.Message);
        }
        catch (Exception e)
        {
            // The service stopping, or the database gone: the chunks written stay, and the file sent again resumes.
            job.Finish(time.GetUtcNow(), new RpcException(new Status(StatusCode.Unavailable, "The import stopped; send the file again to resume it.")));
            LogImportFailed(job.Name, e.Message);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Import {Operation} wrote its {Rows} rows")]
    private partial void LogImported(string operation, int rows);

    [LoggerMessage(2, LogLevel.Warning, "Import {Operation} stopped: {Reason}")]
    private partial void LogImportFailed(string operation, string reason);
}
