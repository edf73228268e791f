using System.Collections.Concurrent;
using Grpc.Core;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;
using SocialSync.PostsService.Domain;
using SocialSync.PostsService.Grpc;
using SocialSync.PostsService.Limits;

namespace SocialSync.PostsService.Background;

/// <summary>Settings of the import worker (section "Import").</summary>
public sealed class ImportOptions
{
    public const string SectionName = "Import";

    /// <summary>
    /// How long an operation stays with the process writing it without a sign of life (renewed with every chunk and
    /// every third of this while a chunk waits for the create bucket): after it, another process takes the operation over.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the process looks for operations whose lease ran out (and prunes ended ones).</summary>
    public TimeSpan ResumeInterval { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Writes checked imports in the background from their stored operations (<see cref="ImportOperationStore"/>), one
/// chunk of <see cref="RateLimitOptions.MaxBatchCreate"/> rows per transaction, which records the chunk's progress too.
/// Each chunk takes its posts from the user's create bucket (waiting for it to refill rather than failing half-way).
/// The process that took the file writes its operation under a lease; when it dies, any process (this one restarted,
/// or another replica) takes the operation over once the lease has run out and goes on after the rows written. A
/// chunk refused ends the import with the chunks before it written; since every row's request_id is the file's hash
/// and the row, sending the file again writes only the rest.
/// </summary>
public sealed partial class PostImporter(ImportOperationStore operations, UserRateLimits limits, ScheduleChangeNotifier scheduleChanges,
    PostsMetrics metrics, ImportOptions options, TimeProvider time, ILogger<PostImporter> log) : BackgroundService
{
    /// <summary>How long an ended import's operation stays readable.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(1);

    /// <summary>This process's name on the leases it holds.</summary>
    private readonly Guid _instance = Guid.NewGuid();

    private readonly ConcurrentDictionary<Guid, byte> _writing = new();
    private readonly System.Threading.Channels.Channel<StoredImport> _queue = System.Threading.Channels.Channel.CreateUnbounded<StoredImport>();

    /// <summary>Stores a checked import and queues it; the user's import of the same file that is still running is answered instead.</summary>
    public async Task<ImportOperation> StartAsync(Guid userId, string fileSha256, IReadOnlyList<NewPost> posts, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (import, started) = await operations.StartAsync(userId, fileSha256, posts, _instance, now, now + options.LeaseDuration, cancellationToken);
        // Should this process stop before the import is written, the lease runs out and another process writes it.
        if (started)
        {
            _queue.Writer.TryWrite(import);
        }
        return import.ToOperation();
    }

    /// <summary>The user's import named <paramref name="name"/>, read from any replica, or null (another user's is absent too).</summary>
    public async Task<ImportOperation?> FindAsync(Guid userId, string name, CancellationToken cancellationToken) =>
        StoredImport.IdOf(name) is { } id && await operations.FindAsync(userId, id, cancellationToken) is { } import ? import.ToOperation() : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        var resuming = ResumeAbandonedAsync(stoppingToken);
        try
        {
            await foreach (var import in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                running.RemoveAll(task => task.IsCompleted);
                // Each import runs on its own: one user's import waiting for their create bucket holds up no one else's.
                running.Add(ImportAsync(import, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        running.Add(resuming);
        await Task.WhenAll(running);
    }

    /// <summary>At start-up and every <see cref="ImportOptions.ResumeInterval"/>: takes over the operations whose writer died, and prunes ended ones.</summary>
    private async Task ResumeAbandonedAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.ResumeInterval, time);
        try
        {
            do
            {
                try
                {
                    var now = time.GetUtcNow();
                    while (await operations.ClaimAbandonedAsync(_instance, now, now + options.LeaseDuration, stoppingToken) is { } abandoned)
                    {
                        LogResuming(abandoned.Name, abandoned.ProcessedRows, abandoned.TotalRows);
                        _queue.Writer.TryWrite(abandoned);
                    }
                    await operations.PruneAsync(now - Retention, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogResumeFailed(ex);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ImportAsync(StoredImport import, CancellationToken stoppingToken)
    {
        // An operation this process let lapse (a long wait) and took back is written by the run that already has it.
        if (!_writing.TryAdd(import.Id, 0))
        {
            return;
        }
        try
        {
            var processed = import.ProcessedRows;
            while (processed < import.TotalRows)
            {
                var rows = Math.Min(limits.Options.MaxBatchCreate, import.TotalRows - processed);
                // The lease is renewed before each chunk and every third of a lease while the create bucket refills
                // (500 rows at 20 a second wait 25 s), so a slow refill does not hand the operation over.
                if (!await RenewLeaseAsync(import, stoppingToken)
                    || !await limits.TakeCreatesWaitingAsync(import.UserId, rows, options.LeaseDuration / 3, token => RenewLeaseAsync(import, token), time, stoppingToken))
                {
                    LogTakenOver(import.Name);
                    return;
                }
                var now = time.GetUtcNow();
                if (await operations.WriteChunkAsync(import.Id, import.UserId, rows, _instance, now, now + options.LeaseDuration, stoppingToken)
                    is not { } written)
                {
                    LogTakenOver(import.Name);
                    return;
                }
                foreach (var post in written.Chunk.Created)
                {
                    metrics.PostCreated(post.Platform);
                }
                scheduleChanges.Pulse();
                processed = written.ProcessedRows;
            }
            if (await operations.FinishAsync(import.Id, _instance, null, time.GetUtcNow(), stoppingToken))
            {
                LogImported(import.Name, import.TotalRows);
            }
        }
        catch (DomainException refused)
        {
            await FailAsync(import, ExceptionMappingInterceptor.ToRpcException(refused), refused.Message);
        }
        catch (Exception) when (stoppingToken.IsCancellationRequested)
        {
            // The service stopping: the chunks written stay, and another process goes on at its next look.
            await ReleaseAsync(import);
        }
        catch (Exception e)
        {
            await FailAsync(import, new RpcException(new Status(StatusCode.Unavailable, "The import stopped; send the file again to resume it.")), e.Message);
        }
        finally
        {
            _writing.TryRemove(import.Id, out _);
        }
    }

    private Task<bool> RenewLeaseAsync(StoredImport import, CancellationToken cancellationToken) =>
        operations.RenewLeaseAsync(import.Id, _instance, time.GetUtcNow() + options.LeaseDuration, cancellationToken);

    private async Task FailAsync(StoredImport import, RpcException failure, string reason)
    {
        LogImportFailed(import.Name, reason);
        try
        {
            var error = new ImportError { Code = (int)failure.StatusCode, Message = failure.Status.Detail };
            await operations.FinishAsync(import.Id, _instance, error, time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The database gone: the operation stays unfinished, and is taken over once its lease runs out.
            LogFinishFailed(ex, import.Name);
        }
    }

    private async Task ReleaseAsync(StoredImport import)
    {
        try
        {
            await operations.ReleaseAsync(import.Id, _instance, time.GetUtcNow(), CancellationToken.None);
            LogReleased(import.Name);
        }
        catch (Exception ex)
        {
            LogFinishFailed(ex, import.Name);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Import {Operation} wrote its {Rows} rows")]
    private partial void LogImported(string operation, int rows);

    [LoggerMessage(2, LogLevel.Warning, "Import {Operation} stopped: {Reason}")]
    private partial void LogImportFailed(string operation, string reason);

    [LoggerMessage(3, LogLevel.Information, "Import {Operation} taken over after its writer's lease ran out, at row {ProcessedRows} of {TotalRows}")]
    private partial void LogResuming(string operation, int processedRows, int totalRows);

    [LoggerMessage(4, LogLevel.Information, "Import {Operation} is written by another process now")]
    private partial void LogTakenOver(string operation);

    [LoggerMessage(5, LogLevel.Information, "Import {Operation} left to another process: this one is stopping")]
    private partial void LogReleased(string operation);

    [LoggerMessage(6, LogLevel.Warning, "Looking for imports to take over failed")]
    private partial void LogResumeFailed(Exception ex);

    [LoggerMessage(7, LogLevel.Warning, "Import {Operation} could not be recorded as ended or released; it is taken over once its lease runs out")]
    private partial void LogFinishFailed(Exception ex, string operation);
}
