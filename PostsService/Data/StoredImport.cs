using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Data;

/// <summary>One import operation as stored (import_operations): its progress, its result once done, and its lease.</summary>
public sealed record StoredImport(Guid Id, Guid UserId, string FileSha256, int TotalRows, int ProcessedRows, int CreatedPosts, int ExistingPosts,
    int? ErrorCode, string? ErrorMessage, bool Done, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    private const string NamePrefix = "operations/import-";

    /// <summary>The operation's resource name, "operations/import-&lt;id&gt;".</summary>
    public string Name => NameOf(Id);

    public static string NameOf(Guid id) => $"{NamePrefix}{id:N}";

    /// <summary>The id named by <paramref name="name"/>, or null when it names no import operation.</summary>
    public static Guid? IdOf(string name) =>
        name.StartsWith(NamePrefix, StringComparison.Ordinal) && Guid.TryParseExact(name.AsSpan(NamePrefix.Length), "N", out var id) ? id : null;

    /// <summary>The operation as the API shows it (AIP-151): the counts once a chunk is written, the error when it failed.</summary>
    public ImportOperation ToOperation()
    {
        var operation = new ImportOperation
        {
            Name = Name,
            Done = Done,
            Metadata = new ImportPostsMetadata
            {
                FileSha256 = FileSha256,
                TotalRows = TotalRows,
                ProcessedRows = ProcessedRows,
                CreateTime = Timestamp.FromDateTimeOffset(CreatedAt),
                UpdateTime = Timestamp.FromDateTimeOffset(UpdatedAt),
            },
        };
        if (ErrorCode is { } code)
        {
            operation.Error = new ImportError { Code = code, Message = ErrorMessage ?? "" };
        }
        else if (Done || ProcessedRows > 0)
        {
            operation.Response = new ImportPostsResponse { CreatedPosts = CreatedPosts, ExistingPosts = ExistingPosts };
        }
        return operation;
    }
}

/// <summary>What writing one chunk of a stored import made, and the operation's processed rows after it.</summary>
public readonly record struct WrittenImportChunk(ImportChunkResult Chunk, int ProcessedRows);
