using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.Benchmarks;

/// <summary>Users, channels and posts through the public gRPC API, as real clients would create them.</summary>
public sealed class Workload : IDisposable
{
    private readonly SocialSyncSystem _system;
    private readonly GrpcChannel _channel;
    private readonly List<(Metadata Auth, string ChannelId)> _channels = [];
    // The ids of each label's posts, as their creates answered: how far a label is published is read by key.
    private readonly ConcurrentDictionary<string, ConcurrentBag<Guid>> _created = new();

    public Workload(SocialSyncSystem system)
    {
        _system = system;
        // Several HTTP/2 connections, as a fleet of clients would open.
        _channel = GrpcChannel.ForAddress(system.Posts.GrpcAddress, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
    }

    public string RunId { get; } = Guid.NewGuid().ToString("N")[..8];

    public async Task CreateChannelsAsync(int count)
    {
        var channels = new ChannelService.ChannelServiceClient(_channel);
        for (var i = 0; i < count; i++)
        {
            var auth = TestTokens.ForUser(Guid.NewGuid());
            var channel = await channels.CreateChannelAsync(new CreateChannelRequest
            {
                Platform = Platform.Whatsapp,
                AccountId = $"bench-{RunId}-{i}",
                AccessToken = "bench-token",
                Settings = new ChannelSettings { Recipients = { $"+1555{i:D7}" } },
            }, auth);
            _channels.Add((auth, channel.Id));
        }
    }

    /// <summary>Creates posts with the given due times, <paramref name="concurrency"/> calls at a time; returns posts per second.</summary>
    public async Task<double> CreatePostsAsync(string label, IReadOnlyList<DateTimeOffset> publishAt, int concurrency)
    {
        var posts = new PostService.PostServiceClient(_channel);
        var created = _created.GetOrAdd(label, _ => []);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < publishAt.Count)
            {
                var (auth, channelId) = _channels[i % _channels.Count];
                var post = await posts.CreatePostAsync(new CreatePostRequest
                {
                    ChannelId = channelId,
                    Content = new Content { Text = $"{label}|{i}|{publishAt[i].ToUnixTimeMilliseconds()}" },
                    PublishAt = Timestamp.FromDateTimeOffset(publishAt[i]),
                }, auth);
                created.Add(Guid.Parse(post.Id));
            }
        }));
        return publishAt.Count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>
    /// Creates posts through BatchCreatePosts, <paramref name="batchSize"/> a call; returns posts per second. Their
    /// indexes start at <paramref name="firstIndex"/>, for a label whose posts are created in several calls.
    /// </summary>
    public async Task<double> CreatePostsBatchedAsync(string label, IReadOnlyList<DateTimeOffset> publishAt, int concurrency, int batchSize, int firstIndex = 0)
    {
        var posts = new PostService.PostServiceClient(_channel);
        // One user's channel per batch: a batch is one user's transaction.
        var batches = Enumerable.Range(0, publishAt.Count).Chunk(batchSize).ToList();
        var created = _created.GetOrAdd(label, _ => []);
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int b;
            while ((b = Interlocked.Increment(ref next)) < batches.Count)
            {
                var (auth, channelId) = _channels[(firstIndex / batchSize + b) % _channels.Count];
                var request = new BatchCreatePostsRequest();
                request.Requests.AddRange(batches[b].Select(i => new CreatePostRequest
                {
                    ChannelId = channelId,
                    Content = new Content { Text = $"{label}|{firstIndex + i}|{publishAt[i].ToUnixTimeMilliseconds()}" },
                    PublishAt = Timestamp.FromDateTimeOffset(publishAt[i]),
                }));
                var response = await posts.BatchCreatePostsAsync(request, auth);
                foreach (var post in response.Posts)
                {
                    created.Add(Guid.Parse(post.Id));
                }
            }
        }));
        return publishAt.Count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    /// <summary>The emulator's WhatsApp messages for one label: (index, due time, time received).</summary>
    public async Task<List<(int Index, DateTimeOffset Due, DateTimeOffset Received)>> ReceivedAsync(string label)
    {
        var json = await _system.Emulator.Http.GetFromJsonAsync<JsonElement>("/__emu/effects?kind=whatsapp_message");
        var received = new List<(int, DateTimeOffset, DateTimeOffset)>();
        foreach (var effect in json.GetProperty("data").EnumerateArray())
        {
            var text = effect.TryGetProperty("text", out var t) ? t.GetString() : null;
            if (text is null || !text.StartsWith(label + "|", StringComparison.Ordinal))
            {
                continue;
            }
            var parts = text.Split('|');
            received.Add((int.Parse(parts[1], CultureInfo.InvariantCulture),
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], CultureInfo.InvariantCulture)),
                effect.GetProperty("time").GetDateTimeOffset()));
        }
        return received;
    }

    public async Task<long> WhatsAppMessagesAsync()
    {
        var stats = await _system.Emulator.Http.GetFromJsonAsync<JsonElement>("/__emu/stats");
        return stats.GetProperty("whatsapp_messages").GetInt64();
    }

    /// <summary>How many posts of <paramref name="label"/> are persisted as published, and the last published_at.</summary>
    public async Task<(long Published, DateTimeOffset? LastPublishedAt)> PersistedAsync(string label)
    {
        await using var connection = new NpgsqlConnection(_system.PostsConnectionString);
        await connection.OpenAsync();
        // The label's posts by key: this poll runs while the burst it waits for is still being persisted, and a scan
        // of the workload's posts (tens of thousands, each post's JSON read for its label) took CPU from that burst.
        await using var query = new NpgsqlCommand("""
            select count(*), max(published_at) from scheduled_posts where id = any(@ids) and status = 'published'
            """, connection);
        query.Parameters.AddWithValue("ids", _created.TryGetValue(label, out var ids) ? ids.ToArray() : []);
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    public void Dispose() => _channel.Dispose();
}
