using SocialSync.Chaos;
using Xunit.Abstractions;

namespace SocialSync.Chaos.Tests;

/// <summary>The small chaos run of the normal test command: a few hundred posts, every fault once.</summary>
public sealed class SmallChaosRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Under_every_fault_once_no_post_is_lost_duplicated_published_early_or_published_after_cancel()
    {
        var writer = new StringWriter();
        var options = ChaosOptions.Small();
        ChaosResult result;
        try
        {
            result = await ChaosRun.RunAsync(options, writer, "SmallChaosRunTests (ChaosOptions.Small)");
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
    }
}
