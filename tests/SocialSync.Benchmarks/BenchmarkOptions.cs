namespace SocialSync.Benchmarks;

public sealed record BenchmarkOptions
{
    /// <summary>
    /// Posts per create phase. 20,000 makes each phase last several seconds: 5,000 lasted 2–3 s, and runs minutes
    /// apart on the same code differed by a third (a checkpoint or an autovacuum falling inside it weighs on it all).
    /// </summary>
    public int CreatePosts { get; init; } = 20_000;
    public int CreateConcurrency { get; init; } = 32;
    public int BurstPosts { get; init; } = 10_000;
    public int TrickleRate { get; init; } = 50;
    public int TrickleSeconds { get; init; } = 60;
    public int Channels { get; init; } = 20;
    public int WarmupPosts { get; init; } = 2000;
    public string OutputDirectory { get; init; } = "bench";

    /// <summary>Runs only the soak: a steady load at the trickle's rate and length, every process's memory followed.</summary>
    public bool Soak { get; init; }

    public int SampleSeconds { get; init; } = 5;

    /// <summary>Runs only the web app's figures: its first load and a month of 1,000 posts (bench/studio.md).</summary>
    public bool Studio { get; init; }

    /// <summary>The soak creates every post before the first is due (the trickle's way) instead of each ten seconds ahead.</summary>
    public bool SoakCreateAhead { get; init; }

    /// <summary>The soak's load when no rate or length is given: the one whose scheduler grew 17 MB a minute.</summary>
    public const int SoakRate = 500;
    public const int SoakSeconds = 600;

    /// <summary>
    /// Runs only the million-post comparison (bench/million.md): every figure on the empty table, then again after
    /// a preload of <see cref="PreloadPosts"/> scheduled posts (and as many published ones with three runs each).
    /// </summary>
    public bool Million { get; init; }

    public int PreloadPosts { get; init; } = 1_000_000;
    public int PreloadUsers { get; init; } = 1000;
    public int PreloadChannels { get; init; } = 5000;

    /// <summary>The posts of the user whose lists are timed (first and 50th page).</summary>
    public int ListUserPosts { get; init; } = 10_000;

    public static BenchmarkOptions Parse(string[] args)
    {
        var options = new BenchmarkOptions();
        var given = new HashSet<string>();
        for (var i = 0; i < args.Length; i++)
        {
            given.Add(args[i]);
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
                "--soak" => options with { Soak = true },
                "--studio" => options with { Studio = true },
                "--soak-seconds" => options with { TrickleSeconds = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--create-ahead" => options with { SoakCreateAhead = true },
                "--sample-seconds" => options with { SampleSeconds = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--million" => options with { Million = true },
                "--posts" => options with { PreloadPosts = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--users" => options with { PreloadUsers = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--preload-channels" => options with { PreloadChannels = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) },
                "--quick" => options with { CreatePosts = 1000, BurstPosts = 2000, TrickleSeconds = 10 },
                _ => throw new ArgumentException(
                    $"unknown option {args[i]}; options: --create N --concurrency N --burst N --trickle-rate N --trickle-seconds N --channels N --warmup N --out DIR --quick; --studio; --million [--posts N] [--users N] [--preload-channels N]; --soak [--trickle-rate N] [--trickle-seconds N | --soak-seconds N] [--sample-seconds N] [--create-ahead]"),
            };
        }
        if (options.Million)
        {
            // Each phase runs twice (empty table, then preloaded): smaller phases keep the run near half an hour.
            options = options with
            {
                CreatePosts = given.Overlaps(["--create", "--quick"]) ? options.CreatePosts : 2000,
                BurstPosts = given.Overlaps(["--burst", "--quick"]) ? options.BurstPosts : 5000,
                TrickleSeconds = given.Overlaps(["--trickle-seconds", "--quick"]) ? options.TrickleSeconds : 30,
            };
        }
        if (options.Soak)
        {
            options = options with
            {
                TrickleRate = given.Contains("--trickle-rate") ? options.TrickleRate : SoakRate,
                TrickleSeconds = given.Overlaps(["--trickle-seconds", "--soak-seconds"]) ? options.TrickleSeconds : SoakSeconds,
            };
        }
        return options;
    }
}
