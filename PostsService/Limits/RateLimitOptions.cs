namespace SocialSync.PostsService.Limits;

/// <summary>
/// How much one user may ask of the public API (section <c>RateLimits</c>); the services' internal API is not limited
/// per user. Each limit is a token bucket per user id (<c>sub</c>), never shared between users: it holds up to its
/// burst and refills by its rate every <see cref="Period"/>. Buckets live in each PostsService process, so N replicas
/// allow a user up to N times these figures. docs/security.md ("Limits") lists what a caller sees.
/// </summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "RateLimits";

    /// <summary>The refill period of both buckets (1 second by default, so the rates read "per second").</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Calls of the public API (gRPC, grpc-web and REST alike) a user's bucket regains each period.</summary>
    public int RequestsPerPeriod { get; set; } = 20;

    /// <summary>Calls a user may make at once after a quiet spell: a page that loads several lists, a script's bursts.</summary>
    public int RequestBurst { get; set; } = 100;

    /// <summary>Posts a user may create per period, across CreatePost, BatchCreatePosts (N posts cost N) and REST.</summary>
    public int CreatesPerPeriod { get; set; } = 20;

    /// <summary>Posts a user may create at once; at least <see cref="MaxBatchCreate"/>, or a full batch could never pass.</summary>
    public int CreateBurst { get; set; } = 1000;

    /// <summary>The most posts one BatchCreatePosts may hold (INVALID_ARGUMENT naming <c>requests</c> beyond it).</summary>
    public int MaxBatchCreate { get; set; } = 500;

    /// <summary>The settings of <paramref name="configuration"/>, refused with a sentence naming the setting when unusable.</summary>
    public static RateLimitOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<RateLimitOptions>() ?? new RateLimitOptions();
        options.Validate();
        return options;
    }

    private void Validate()
    {
        if (Period <= TimeSpan.Zero)
        {
            throw Invalid(nameof(Period), "must be positive");
        }
        foreach (var (name, value) in new[]
        {
            (nameof(RequestsPerPeriod), RequestsPerPeriod), (nameof(RequestBurst), RequestBurst),
            (nameof(CreatesPerPeriod), CreatesPerPeriod), (nameof(CreateBurst), CreateBurst), (nameof(MaxBatchCreate), MaxBatchCreate),
        })
        {
            if (value <= 0)
            {
                throw Invalid(name, "must be at least 1");
            }
        }
        if (CreateBurst < MaxBatchCreate)
        {
            throw Invalid(nameof(CreateBurst), $"({CreateBurst}) must be at least {SectionName}:{nameof(MaxBatchCreate)} ({MaxBatchCreate}), or a full batch could never be created");
        }
    }

    private static InvalidOperationException Invalid(string setting, string problem) =>
        new($"{SectionName}:{setting} {problem}.");
}
