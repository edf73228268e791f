using SocialSync.Chaos;
using Xunit.Abstractions;

namespace SocialSync.Chaos.Tests;

/// <summary>
/// The small chaos runs of the normal test command: a few hundred posts, every fault once; the schedulers' index on
/// one redis-server, then on a Redis Cluster. One class, so the two runs take the machine one after the other.
/// </summary>
public sealed class SmallChaosRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Under_every_fault_once_no_post_is_lost_duplicated_published_early_or_published_after_cancel()
    {
        await RunAsync(ChaosOptions.Small(), "SmallChaosRunTests (ChaosOptions.Small)");
    }

    [Fact]
    public async Task With_the_index_on_a_Redis_Cluster_whose_master_is_killed_and_masters_flushed_no_post_is_lost_duplicated_or_early()
    {
        var result = await RunAsync(ChaosOptions.Small(seed: 11) with { RedisCluster = true }, "SmallChaosRunTests (ChaosOptions.Small, --redis-cluster)");

        // The Redis faults were the cluster's: a master killed and replaced by its replica, then back as a replica.
        var kill = Assert.Single(result.Faults, f => f.Kind == FaultKind.StopRedis);
        Assert.Contains("SIGKILLed, its replica on port", kill.Detail, StringComparison.Ordinal);
        Assert.Contains("back empty as a replica", kill.Detail, StringComparison.Ordinal);
        Assert.Contains("every master of the cluster", Assert.Single(result.Faults, f => f.Kind == FaultKind.FlushRedis).Detail, StringComparison.Ordinal);
    }

    /// <summary>Runs <paramref name="options"/> and asserts the run's promises: nothing lost, twice, early or after a cancel, every fault applied.</summary>
    private async Task<ChaosResult> RunAsync(ChaosOptions options, string command)
    {
        var writer = new StringWriter();
        ChaosResult result;
        try
        {
            result = await ChaosRun.RunAsync(options, writer, command);
        }
        finally
        {
            output.WriteLine(writer.ToString());
        }

        var verdict = result.Verdict;
        Assert.True(verdict.Posts.Count >= options.Posts * 9 / 10, $"only {verdict.Posts.Count} of {options.Posts} posts were created");
        Assert.Contains(verdict.Posts, p => p.Status == "published");
        Assert.True(result.Approved > 0, "some posts went through approval");
        Assert.Empty(verdict.Lost);
        Assert.Empty(verdict.Duplicates);
        Assert.Empty(verdict.Early);
        Assert.Empty(verdict.CancelledButPublished);
        Assert.Empty(verdict.WithoutReason);
        Assert.Empty(verdict.UnknownEffects);
        Assert.All(result.Faults, f => Assert.Null(f.Error));
        Assert.Equal(Enum.GetValues<FaultKind>().Length, result.Faults.Count);
        return result;
    }
}
