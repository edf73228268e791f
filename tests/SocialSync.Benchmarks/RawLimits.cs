using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Npgsql;
using SocialSync.Testing;

namespace SocialSync.Benchmarks;

/// <summary>The raw limits of the very servers the system uses, measured in the same run.</summary>
public static partial class RawLimits
{
    /// <summary>Single-row INSERT commits per second (pgbench, one INSERT per transaction).</summary>
    public static async Task<double> PostgresInsertsPerSecondAsync(SocialSyncSystem system, int clients, int seconds)
    {
        await using (var connection = new NpgsqlConnection(system.PostsConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand(
                "create table if not exists bench_raw_inserts (id uuid primary key default gen_random_uuid(), payload jsonb not null, created_at timestamptz not null default now())",
                connection);
            await create.ExecuteNonQueryAsync();
        }
        var script = Path.GetTempFileName();
        await File.WriteAllTextAsync(script, "insert into bench_raw_inserts (payload) values ('{\"text\":\"raw insert\"}');\n");
        var builder = new NpgsqlConnectionStringBuilder(system.PostsConnectionString);
        var output = await RunAsync("pgbench",
            ["-h", "127.0.0.1", "-p", builder.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-n",
             "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", "2", "-T", seconds.ToString(CultureInfo.InvariantCulture),
             "-f", script, builder.Database!],
            new Dictionary<string, string> { ["PGPASSWORD"] = PostgresServer.Password });
        File.Delete(script);
        var match = PgbenchTps().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("pgbench: " + output);
    }

    /// <summary>ZADD requests per second (redis-benchmark, no pipelining).</summary>
    public static async Task<double> RedisZaddsPerSecondAsync(SocialSyncSystem system, int clients, int requests)
    {
        var output = await RunAsync("redis-benchmark",
            ["-h", "127.0.0.1", "-p", system.Redis.Port.ToString(CultureInfo.InvariantCulture), "-n", requests.ToString(CultureInfo.InvariantCulture),
             "-c", clients.ToString(CultureInfo.InvariantCulture), "-q", "-t", "zadd"], []);
        var match = RedisRps().Match(output);
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("redis-benchmark: " + output);
    }

    /// <summary>WhatsApp sends per second the emulator itself can take, from concurrent HTTP/1.1 clients.</summary>
    public static async Task<double> EmulatorRequestsPerSecondAsync(SocialSyncSystem system, int concurrency, TimeSpan duration)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = system.Emulator.BaseAddress };
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long count = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            while (Stopwatch.GetTimestamp() < stopAt)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/v23.0/bench-raw-rate/messages")
                {
                    Content = JsonContent.Create(new { messaging_product = "whatsapp", to = "+15550001111", type = "text", text = new { body = "raw rate" } }),
                };
                request.Headers.Authorization = new("Bearer", "bench-token");
                using var response = await http.SendAsync(request);
                response.EnsureSuccessStatusCode();
                Interlocked.Increment(ref count);
            }
        }));
        return count / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task<string> RunAsync(string file, string[] arguments, Dictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return await stdout + await stderr;
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex PgbenchTps();

    [GeneratedRegex(@"ZADD: ([0-9.]+) requests per second")]
    private static partial Regex RedisRps();
}
