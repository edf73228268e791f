using System.Net;

namespace SocialSync.PostsService.Tests;

/// <summary>A PostsService whose gauges sample once, at start, and not again for an hour.</summary>
public sealed class HourlyGaugesFixture : PostsServiceFixture
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Telemetry__GaugeInterval"] = "01:00:00",
    };
}

/// <summary>
/// /health's alerts are the gauges' last sample (AlertsHealthCheck, docs/alerts.md): the figures count a whole window
/// of runs, and probes come from every orchestrator and dashboard, so a probe must not run that count itself.
/// </summary>
public sealed class HealthProbeTests(HourlyGaugesFixture fixture) : IClassFixture<HourlyGaugesFixture>
{
    // PostgreSQL publishes a backend's table statistics when it next ends a transaction a second after the last time,
    // or after 10 s idle: waiting longer than that makes the counters whole.
    private static readonly TimeSpan StatisticsFlush = TimeSpan.FromSeconds(11);

    [Fact]
    public async Task Probes_while_the_gauges_sample_is_recent_read_no_runs()
    {
        Assert.Equal(HttpStatusCode.OK, (await fixture.Http.GetAsync("/health")).StatusCode);
        await Task.Delay(StatisticsFlush);
        var before = await RunsScansAsync();

        for (var i = 0; i < 20; i++)
        {
            using var response = await fixture.Http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("\"alerts\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await Task.Delay(StatisticsFlush);

        Assert.Equal(before, await RunsScansAsync());
    }

    /// <summary>Every scan of post_runs so far, by index or whole (the alerts' figures are its only reader here).</summary>
    private async Task<long> RunsScansAsync() =>
        (long)(await fixture.OwnerScalarAsync(
            "select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) from pg_stat_user_tables where relname = 'post_runs'"))!;
}
