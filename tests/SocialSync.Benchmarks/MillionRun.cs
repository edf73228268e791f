using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;
using StackExchange.Redis;

namespace SocialSync.Benchmarks;

/// <summary>One phase's figures: the same measurements on the empty table and on the preloaded one.</summary>
public sealed record PhaseFigures
{
    public double CreateRate { get; init; }
    public double BatchCreateRate { get; init; }
    public required PhaseResult Burst { get; init; }
    public required PhaseResult Trickle { get; init; }
    public required Distribution ListFirstPage { get; init; }
    public required Distribution ListPage50 { get; init; }
    public required Distribution ListOffsetPage50 { get; init; }
    public required Distribution PostStatistics { get; init; }
    public required Distribution ChannelStatistics { get; init; }

    /// <summary>The statistics of a preloaded user (1,000 scheduled and 1,000 published posts, 3,000 runs); none on the empty table.</summary>
    public (Distribution Posts, Distribution Channels)? HistoryUserStatistics { get; init; }
    /// <summary>The 1-minute load average when the phase started and when it ended (the benchmark's own processes included).</summary>
    public (double Start, double End) LoadAverage { get; init; }
    public double RebuildSeconds { get; init; }
    public long IndexedPosts { get; init; }
    public long RedisUsedMemory { get; init; }
    public long RedisEmptyMemory { get; init; }
    public required IReadOnlyList<(string Relation, long TableBytes, long IndexBytes, long Rows)> Tables { get; init; }
}

/// <summary>
/// The million-post comparison (issue 18): the system is started and warmed up, one user gets 10,000 posts through
/// the API, and every figure is measured on that nearly empty table; then PostsService's database is preloaded
/// (<see cref="Preload"/>), the scheduler's index rebuilt for it, and every figure measured again, so that each is
/// compared with its empty-table twin of the same run on the same machine.
/// </summary>
public static class MillionRun
{
    internal const int LatencySamples = 200;
    private const int ListPageSize = 100;

    public static async Task<MillionReport> RunAsync(BenchmarkOptions options, TextWriter log)
    {
        var size = new PreloadSize(options.PreloadPosts, options.PreloadUsers, options.PreloadChannels);
        log.WriteLine("starting the system (PostgreSQL with fsync on, Redis, emulator, three services)");
        await using var system = await SocialSyncSystem.StartAsync(new SystemOptions { DurablePostgres = true });
        using var workload = new Workload(system);
        await workload.CreateChannelsAsync(options.Channels);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{system.Redis.ConnectionString},allowAdmin=true");
        if (options.WarmupPosts > 0)
        {
            await BenchmarkRun.WarmUpAsync(workload, options, log);
        }
        var lister = await CreateListUserAsync(system, options.ListUserPosts, log);

        var empty = await MeasureAsync("empty", system, workload, redis, lister, options, log);
        log.WriteLine($"preload: {size.Posts:N0} scheduled posts, {size.HistoryPosts:N0} published with {size.Runs:N0} runs, {size.Users:N0} users, {size.Channels:N0} channels");
        var times = await Preload.RunAsync(system.PostsConnectionString, size, lister.ChannelId, lister.TemplatePostId, log);
        log.WriteLine($"preload: {times.Total.TotalSeconds:F0} s in all");
        var historyUser = await AnyPreloadedUserAsync(system);
        var preloaded = await MeasureAsync("preloaded", system, workload, redis, lister, options, log, historyUser);
        return new MillionReport(options, size, times, empty, preloaded);
    }

    private sealed record ListUser(Metadata Auth, Guid ChannelId, Guid TemplatePostId);

    /// <summary>A user with <paramref name="posts"/> posts over the coming month, made through the API like any other.</summary>
    private static async Task<ListUser> CreateListUserAsync(SocialSyncSystem system, int posts, TextWriter log)
    {
        var auth = TestTokens.ForUser(Guid.NewGuid());
        var channel = await system.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "bench-list-user",
            AccessToken = "bench-token",
            Settings = new ChannelSettings { Recipients = { "+15550000001" } },
        }, auth);
        var start = DateTimeOffset.UtcNow.AddHours(2);
        string? first = null;
        foreach (var batch in Enumerable.Range(0, posts).Chunk(100))
        {
            var request = new BatchCreatePostsRequest();
            request.Requests.AddRange(batch.Select(i => new CreatePostRequest
            {
                ChannelId = channel.Id,
                Content = new Content { Text = $"list user post {i}" },
                PublishAt = Timestamp.FromDateTimeOffset(start.AddSeconds(i * (PreloadSize.ScheduleDays * 86400.0 / posts))),
            }));
            var created = await system.PostClient.BatchCreatePostsAsync(request, auth);
            first ??= created.Posts[0].Id;
        }
        log.WriteLine($"list user: {posts} posts over the coming {PreloadSize.ScheduleDays} days");
        return new ListUser(auth, Guid.Parse(channel.Id), Guid.Parse(first!));
    }

    private static async Task<PhaseFigures> MeasureAsync(string phase, SocialSyncSystem system, Workload workload, ConnectionMultiplexer redis,
        ListUser lister, BenchmarkOptions options, TextWriter log, Metadata? historyUser = null)
    {
        log.WriteLine($"== {phase} table");
        var loadAtStart = BenchmarkReport.LoadAverage();
        // 1. The index rebuilt from PostgreSQL after FLUSHALL, and what it then holds in Redis.
        var (rebuildSeconds, indexed, emptyMemory) = await RebuildAfterFlushAllAsync(system, redis);
        var usedMemory = await BenchmarkRun.UsedMemoryAsync(redis, system);
        log.WriteLine($"{phase}: index of {indexed:N0} posts rebuilt in {rebuildSeconds:F1} s; Redis used_memory {usedMemory / 1048576.0:F1} MiB");

        // 2. Creates (due a week ahead, so nothing fires), unary then batched.
        var farAhead = DateTimeOffset.UtcNow.AddDays(7);
        var dueTimes = Enumerable.Range(0, options.CreatePosts).Select(i => farAhead.AddMilliseconds(i)).ToList();
        var createRate = await workload.CreatePostsAsync($"create-{phase}", dueTimes, options.CreateConcurrency);
        var batchRate = await workload.CreatePostsBatchedAsync($"batch-{phase}", dueTimes, Math.Min(options.CreateConcurrency, 8), 100);
        log.WriteLine($"{phase}: create {createRate:F0} posts/s, in batches of 100 {batchRate:F0} posts/s");

        // 3. The burst and the trickle.
        var (burstAt, messagesBefore) = await LoadPhases.ScheduleBurstAsync(workload, $"burst-{phase}", options.BurstPosts, batchRate);
        var burst = await LoadPhases.AwaitBurstAsync(workload, $"burst-{phase}", options.BurstPosts, burstAt, messagesBefore);
        log.WriteLine($"{phase}: burst of {options.BurstPosts} done {burst.Seconds:F2} s after its due instant; lateness {Distribution.Of(burst.Lateness)}");
        var trickle = await LoadPhases.TrickleAsync(workload, $"trickle-{phase}", options.TrickleRate, options.TrickleSeconds, batchRate, log);
        log.WriteLine($"{phase}: trickle lateness {Distribution.Of(trickle.Lateness)}");

        // 4. The list user's lists and statistics, one call at a time.
        var posts = system.PostClient;
        var page50Token = await TokenOfPageAsync(posts, lister.Auth, 50);
        var firstPage = await TimeAsync(() => posts.ListPostsAsync(new ListPostsRequest { PageSize = ListPageSize }, lister.Auth).ResponseAsync);
        var page50 = await TimeAsync(() => posts.ListPostsAsync(new ListPostsRequest { PageSize = ListPageSize, PageToken = page50Token }, lister.Auth).ResponseAsync);
        var offset50 = await TimeAsync(() => posts.ListPostsAsync(new ListPostsRequest { Limit = ListPageSize, Offset = 49 * ListPageSize }, lister.Auth).ResponseAsync);
        log.WriteLine($"{phase}: ListPosts first page {firstPage}; 50th page {page50}; 50th page by offset {offset50}");
        var (postStatistics, channelStatistics) = await TimeStatisticsAsync(system, lister.Auth);
        log.WriteLine($"{phase}: GetPostStatistics {postStatistics}; GetChannelStatistics {channelStatistics}");
        (Distribution, Distribution)? historyUserStatistics = historyUser is null ? null : await TimeStatisticsAsync(system, historyUser);
        if (historyUserStatistics is var (historyPosts, historyChannels))
        {
            log.WriteLine($"{phase}: a preloaded user's GetPostStatistics {historyPosts}; GetChannelStatistics {historyChannels}");
        }

        return new PhaseFigures
        {
            LoadAverage = (loadAtStart, BenchmarkReport.LoadAverage()),
            CreateRate = createRate,
            BatchCreateRate = batchRate,
            Burst = burst,
            Trickle = trickle,
            ListFirstPage = firstPage,
            ListPage50 = page50,
            ListOffsetPage50 = offset50,
            PostStatistics = postStatistics,
            ChannelStatistics = channelStatistics,
            HistoryUserStatistics = historyUserStatistics,
            RebuildSeconds = rebuildSeconds,
            IndexedPosts = indexed,
            RedisUsedMemory = usedMemory,
            RedisEmptyMemory = emptyMemory,
            Tables = await TableSizesAsync(system),
        };
    }

    /// <summary>
    /// FLUSHALL, then the time until every shard's completeness marker is back and the index holds every queued post
    /// PostgreSQL has (of channels that do not hold theirs); returns that time, the count, and used_memory right after the flush.
    /// </summary>
    private static async Task<(double Seconds, long Indexed, long EmptyMemory)> RebuildAfterFlushAllAsync(SocialSyncSystem system, ConnectionMultiplexer redis)
    {
        var queued = await ScalarAsync(system, """
            select count(*) from scheduled_posts p join channels c on c.id = p.channel_id where p.status = 'queued' and not holds_posts(c.state)
            """);
        var server = redis.GetServer(system.Redis.ConnectionString);
        var started = Stopwatch.GetTimestamp();
        await server.FlushAllDatabasesAsync();
        var emptyMemory = await BenchmarkRun.UsedMemoryAsync(redis, system);
        await BenchmarkRun.WaitUntilAsync(async () => await SchedulerIndex.IsCompleteAsync(system.Redis.ConnectionString)
                && await SchedulerIndex.LengthAsync(redis.GetDatabase()) >= queued,
            "the index to be rebuilt", TimeSpan.FromMinutes(20), TimeSpan.FromMilliseconds(100));
        return (Stopwatch.GetElapsedTime(started).TotalSeconds, await SchedulerIndex.LengthAsync(redis.GetDatabase()), emptyMemory);
    }

    /// <summary>GetPostStatistics, and GetChannelStatistics over the last 30 days, for <paramref name="user"/>.</summary>
    private static async Task<(Distribution Posts, Distribution Channels)> TimeStatisticsAsync(SocialSyncSystem system, Metadata user)
    {
        var statistics = new PostStatisticsService.PostStatisticsServiceClient(system.PostsChannel);
        var monthAgo = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-30));
        var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);
        return (await TimeAsync(() => system.PostClient.GetPostStatisticsAsync(new GetPostStatisticsRequest(), user).ResponseAsync),
            await TimeAsync(() => statistics.GetChannelStatisticsAsync(new GetChannelStatisticsRequest { StartTime = monthAgo, EndTime = now }, user).ResponseAsync));
    }

    private static async Task<string> TokenOfPageAsync(PostService.PostServiceClient posts, Metadata auth, int page)
    {
        var request = new ListPostsRequest { PageSize = ListPageSize };
        for (var i = 1; i < page; i++)
        {
            request.PageToken = (await posts.ListPostsAsync(request, auth)).NextPageToken;
        }
        return request.PageToken;
    }

    /// <summary>Calls <paramref name="call"/> one at a time, ten times unmeasured, then <see cref="LatencySamples"/> times timed.</summary>
    private static async Task<Distribution> TimeAsync<T>(Func<Task<T>> call)
    {
        for (var i = 0; i < 10; i++)
        {
            await call();
        }
        var samples = new List<double>(LatencySamples);
        for (var i = 0; i < LatencySamples; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        return Distribution.Of(samples);
    }

    private static async Task<Metadata> AnyPreloadedUserAsync(SocialSyncSystem system)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("select user_id from channels where account_id = 'preload-0'", connection);
        return TestTokens.ForUser((Guid)(await query.ExecuteScalarAsync())!);
    }

    private static async Task<IReadOnlyList<(string, long, long, long)>> TableSizesAsync(SocialSyncSystem system)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""
            select c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), greatest(c.reltuples, 0)::bigint
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind = 'r' and pg_total_relation_size(c.oid) > 1048576
            order by pg_total_relation_size(c.oid) desc
            """, connection);
        var tables = new List<(string, long, long, long)>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        }
        return tables;
    }

    private static async Task<long> ScalarAsync(SocialSyncSystem system, string sql)
    {
        await using var connection = new NpgsqlConnection(system.PostsConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand(sql, connection) { CommandTimeout = 300 };
        return (long)(await query.ExecuteScalarAsync())!;
    }
}
