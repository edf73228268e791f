using System.Security.Cryptography;
using System.Text;

namespace SocialSync.PostsService.Domain;

/// <summary>
/// How a WhatsApp experiment's recipients are split (docs/experiments.md): shuffled by a seed stored with the experiment,
/// the first <c>test_share</c> of them dealt to the variants in turn (so sizes differ by at most 1), the rest held back
/// for the winner. The shuffle orders recipients by SHA-256 of the seed and the number, so it depends on nothing but
/// the seed and the set of recipients (not their order, not the runtime's random generator), and can be recomputed.
/// </summary>
public static class ExperimentSplit
{
    public sealed record Split(IReadOnlyList<IReadOnlyList<string>> Variants, IReadOnlyList<string> Holdout);

    /// <summary>How many of <paramref name="recipients"/> recipients the variants get at <paramref name="testShare"/> (rounded, never more than all).</summary>
    public static int TestedCount(int recipients, double testShare) =>
        Math.Min(recipients, (int)Math.Round(recipients * testShare, MidpointRounding.AwayFromZero));

    public static Split Apply(IEnumerable<string> recipients, int variants, double testShare, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(variants, 1);
        var seedBytes = BitConverter.GetBytes(seed);
        var shuffled = recipients.Distinct(StringComparer.Ordinal)
            .Select(recipient => (Recipient: recipient, Key: Convert.ToHexString(SHA256.HashData([.. seedBytes, .. Encoding.UTF8.GetBytes(recipient)]))))
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .ThenBy(r => r.Recipient, StringComparer.Ordinal)
            .Select(r => r.Recipient)
            .ToList();
        var tested = TestedCount(shuffled.Count, testShare);
        var dealt = Enumerable.Range(0, variants).Select(_ => new List<string>()).ToArray();
        for (var i = 0; i < tested; i++)
        {
            dealt[i % variants].Add(shuffled[i]);
        }
        return new Split(dealt, shuffled.Skip(tested).ToList());
    }

    public static long NewSeed() => BitConverter.ToInt64(RandomNumberGenerator.GetBytes(sizeof(long)));
}
