namespace SocialSync.Benchmarks;

public sealed record Distribution(int Count, double P50, double P99, double Max, double Mean)
{
    public static Distribution Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0)
        {
            return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN);
        }
        var sorted = values.Order().ToArray();
        return new Distribution(sorted.Length, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1], sorted.Average());
    }

    private static double Percentile(double[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public override string ToString() => $"p50 {P50:F1} ms, p99 {P99:F1} ms, max {Max:F1} ms (n = {Count})";
}
