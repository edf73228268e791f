using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>Settings of A/B experiments (section "Experiments", docs/experiments.md).</summary>
public sealed class ExperimentOptions
{
    public const string SectionName = "Experiments";

    /// <summary>How often the finisher looks for experiments whose window has passed.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A variant whose sample (WhatsApp recipients, Instagram reach) is below this makes the result too small to call.</summary>
    public int MinimumSampleSize { get; set; } = 100;
}

/// <summary>What a create asks for, checked in everything that needs no database (the channel decides the rest).</summary>
public sealed record ExperimentPlan(
    Guid ChannelId, Guid? WorkspaceId, string Name, IReadOnlyList<(Content Content, DateTimeOffset? PublishAt)> Variants,
    DateTimeOffset? PublishAt, IReadOnlyList<string> Recipients, double TestShare, TimeSpan WinnerAfter, bool Draft, long Seed)
{
    /// <summary>The request_id the create came with (AIP-155), or null.</summary>
    public string? RequestId { get; init; }

    /// <summary>
    /// A SHA-256 of the request without its request_id, stored with the experiment: the same request_id with another
    /// request is told apart from a retry, as for posts (<see cref="NewPost.RequestHash"/>).
    /// </summary>
    public byte[]? RequestHash { get; init; }

    /// <summary>When the variants' window closes: the last variant's publish time + <see cref="WinnerAfter"/>.</summary>
    public DateTimeOffset FinishesAt => Variants.Max(v => v.PublishAt ?? PublishAt!.Value) + WinnerAfter;
}

/// <summary>
/// The rules of experiments written once: how many variants, their labels, what a platform needs, and which variant
/// wins (docs/experiments.md).
/// </summary>
public static class ExperimentRules
{
    public const int MinVariants = 2;
    public const int MaxVariants = 4;
    public const int MinRecipientsPerVariant = 2;
    public const double MinTestShare = 0.2;
    public const int MaxNameLength = 200;
    public static readonly TimeSpan MaxWinnerAfter = TimeSpan.FromDays(30);

    public static string Label(int index) => ((char)('A' + index)).ToString();

    /// <summary>
    /// What the channel's platform needs of the plan: WhatsApp one publish_at for all and enough recipients for each
    /// variant; Instagram a publish_at per variant and no recipients or holdout.
    /// </summary>
    public static void CheckFor(ExperimentPlan plan, Platform platform, int recipients, FieldViolations violations)
    {
        if (platform == Platform.Whatsapp)
        {
            if (plan.PublishAt is null)
            {
                violations.Add("publish_at", "is required for a WhatsApp experiment: all variants go out at once");
            }
            for (var i = 0; i < plan.Variants.Count; i++)
            {
                if (plan.Variants[i].PublishAt is not null)
                {
                    violations.Add($"variants[{i}].publish_at", "must be unset for WhatsApp: all variants go out at publish_at");
                }
            }
            if (ExperimentSplit.TestedCount(recipients, plan.TestShare) < MinRecipientsPerVariant * plan.Variants.Count)
            {
                violations.Add("recipients", $"must give each variant at least {MinRecipientsPerVariant} recipients within test_share " +
                    $"({recipients} recipients, {plan.Variants.Count} variants)");
            }
            return;
        }
        if (plan.PublishAt is not null)
        {
            violations.Add("publish_at", "must be unset for Instagram: each variant has its own publish_at");
        }
        for (var i = 0; i < plan.Variants.Count; i++)
        {
            if (plan.Variants[i].PublishAt is null)
            {
                violations.Add($"variants[{i}].publish_at", "is required for Instagram: each variant goes out at its own time");
            }
        }
        if (plan.Recipients.Count > 0)
        {
            violations.Add("recipients", "only a WhatsApp experiment has recipients");
        }
        if (plan.TestShare < 1)
        {
            violations.Add("test_share", "only a WhatsApp experiment keeps recipients back");
        }
    }

    /// <summary>
    /// The winner: WhatsApp by read rate, ties by delivered rate; Instagram by engagement rate, ties by reach; then by
    /// label (A before B), so the choice is always one and the same for the same figures.
    /// </summary>
    public static ExperimentVariant Winner(Platform platform, IReadOnlyList<ExperimentVariant> variants) => platform == Platform.Whatsapp
        ? variants.OrderByDescending(v => v.ReadRate).ThenByDescending(v => Rate(v.Delivered, v.SampleSize)).ThenBy(v => v.Label, StringComparer.Ordinal).First()
        : variants.OrderByDescending(v => v.EngagementRate).ThenByDescending(v => v.Reach).ThenBy(v => v.Label, StringComparer.Ordinal).First();

    /// <summary>Too small to call: some variant's sample (recipients, reach) is below the minimum.</summary>
    public static bool SampleTooSmall(IReadOnlyList<ExperimentVariant> variants, int minimumSampleSize) =>
        variants.Any(v => v.SampleSize < minimumSampleSize);

    public static double Rate(long part, long whole) => whole <= 0 ? 0 : (double)part / whole;
}
