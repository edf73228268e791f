using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Tests;

/// <summary>The WhatsApp split and the winner rule of experiments (docs/experiments.md), as pure functions.</summary>
public sealed class ExperimentSplitTests
{
    private static readonly string[] Recipients = Enumerable.Range(0, 11).Select(i => $"+1650555{i:0000}").ToArray();

    [Fact]
    public void Every_recipient_is_in_exactly_one_variant_or_the_holdout_and_variant_sizes_differ_by_at_most_one()
    {
        var split = ExperimentSplit.Apply(Recipients, variants: 3, testShare: 0.8, seed: 42);

        // 11 x 0.8 = 8.8, rounded to 9 tested: 3 + 3 + 3, and 2 held back.
        Assert.Equal([3, 3, 3], split.Variants.Select(v => v.Count));
        Assert.Equal(2, split.Holdout.Count);
        var all = split.Variants.SelectMany(v => v).Concat(split.Holdout).ToList();
        Assert.Equal(Recipients.Order(), all.Order());

        var uneven = ExperimentSplit.Apply(Recipients.Take(10), variants: 3, testShare: 1, seed: 42);
        Assert.Equal([4, 3, 3], uneven.Variants.Select(v => v.Count));
        Assert.Empty(uneven.Holdout);
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_whatever_the_order_of_the_recipients_and_another_seed_another()
    {
        var first = ExperimentSplit.Apply(Recipients, 2, 0.6, seed: 7);
        var reordered = ExperimentSplit.Apply(Recipients.Reverse(), 2, 0.6, seed: 7);
        var otherSeed = ExperimentSplit.Apply(Recipients, 2, 0.6, seed: 8);

        Assert.Equal(first.Variants, reordered.Variants);
        Assert.Equal(first.Holdout, reordered.Holdout);
        Assert.NotEqual(first.Variants.SelectMany(v => v), otherSeed.Variants.SelectMany(v => v));
    }

    [Fact]
    public void A_repeated_recipient_is_counted_once()
    {
        var split = ExperimentSplit.Apply([.. Recipients.Take(4), Recipients[0], Recipients[1]], 2, 1, seed: 1);

        Assert.Equal(4, split.Variants.Sum(v => v.Count));
    }

    [Fact]
    public void The_WhatsApp_winner_has_the_best_read_rate_then_delivered_rate_then_the_first_label()
    {
        ExperimentVariant Variant(string label, long sample, long delivered, long read) =>
            new() { Label = label, SampleSize = sample, Delivered = delivered, Read = read, ReadRate = ExperimentRules.Rate(read, sample) };

        Assert.Equal("B", ExperimentRules.Winner(Platform.Whatsapp, [Variant("A", 10, 10, 4), Variant("B", 10, 9, 5)]).Label);
        Assert.Equal("B", ExperimentRules.Winner(Platform.Whatsapp, [Variant("A", 10, 8, 5), Variant("B", 10, 9, 5)]).Label);
        Assert.Equal("A", ExperimentRules.Winner(Platform.Whatsapp, [Variant("B", 10, 9, 5), Variant("A", 10, 9, 5)]).Label);
    }

    [Fact]
    public void The_Instagram_winner_has_the_best_engagement_rate_and_a_small_reach_is_too_small_to_call()
    {
        var a = new ExperimentVariant { Label = "A", Reach = 400, SampleSize = 400, EngagementRate = 0.05 };
        var b = new ExperimentVariant { Label = "B", Reach = 90, SampleSize = 90, EngagementRate = 0.08 };

        Assert.Equal("B", ExperimentRules.Winner(Platform.Instagram, [a, b]).Label);
        Assert.True(ExperimentRules.SampleTooSmall([a, b], minimumSampleSize: 100));
        Assert.False(ExperimentRules.SampleTooSmall([a, b], minimumSampleSize: 90));
    }
}
