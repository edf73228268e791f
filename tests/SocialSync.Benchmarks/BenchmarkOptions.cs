namespace SocialSync.Benchmarks;

public sealed record BenchmarkOptions
{
    public int CreatePosts { get; init; } = 5000;
    public int CreateConcurrency { get; init; } = 32;
    public int BurstPosts { get; init; } = 10_000;
    public int TrickleRate { get; init; } = 50;
    public int TrickleSeconds { get; init; } = 60;
    public int Channels { get; init; } = 20;
    public int WarmupPosts { get; init; } = 2000;
    public string OutputDirectory { get; init; } = "bench";

    public static BenchmarkOptions Parse(string[] args)
    {
        var options = new BenchmarkOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            options = args[i] switch
            {
                "--create" => options with { CreatePosts = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--concurrency" => options with { CreateConcurrency = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--burst" => options with { BurstPosts = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--trickle-rate" => options with { TrickleRate = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--trickle-seconds" => options with { TrickleSeconds = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--channels" => options with { Channels = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--warmup" => options with { WarmupPosts = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--out" => options with { OutputDirectory = Next() },
                "--quick" => options with { CreatePosts = 1000, BurstPosts = 2000, TrickleSeconds = 10 },
                _ => throw new ArgumentException(
                    $"unknown option {args[i]}; options: --create N --concurrency N --burst N --trickle-rate N --trickle-seconds N --channels N --warmup N --out DIR --quick"),
            };
        }
        return options;
    }
}
