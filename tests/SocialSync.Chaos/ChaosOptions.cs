using System.Globalization;

namespace SocialSync.Chaos;

/// <summary>The size and shape of one chaos run. Everything random derives from <see cref="Seed"/>.</summary>
public sealed record ChaosOptions
{
    public int Posts { get; init; } = 2000;

    public int Seed { get; init; } = 1;

    public int Users { get; init; } = 4;

    /// <summary>How long posts keep coming due; every fault starts inside it.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>Instants at which hundreds of posts are due together.</summary>
    public int Bursts { get; init; } = 3;

    /// <summary>Share of the posts that belong to a burst (the rest is the steady stream).</summary>
    public double BurstShare { get; init; } = 0.5;

    /// <summary>Share of the steady stream created while the faults run, each shortly before it is due.</summary>
    public double LiveCreateShare { get; init; } = 0.2;

    public double EditShare { get; init; } = 0.05;

    public double CancelShare { get; init; } = 0.05;

    /// <summary>How many times each kind of fault is applied.</summary>
    public int FaultRounds { get; init; } = 2;

    public TimeSpan RedisOutage { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the second scheduler replica stays dead.</summary>
    public TimeSpan SchedulerOutage { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long each emulator fault (500s, 429s, slow answers, expired token) stays armed.</summary>
    public TimeSpan EmulatorFaultDuration { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>How long to wait, after the window, for every post to reach a final state.</summary>
    public TimeSpan ConvergenceBound { get; init; } = TimeSpan.FromMinutes(5);

    public IReadOnlyList<string> Platforms { get; init; } = ["whatsapp", "instagram"];

    /// <summary>
    /// The schedulers' index on a Redis Cluster (3 masters, 1 replica each, docs/scale.md) instead of one redis-server:
    /// the Redis faults then kill a master (its replica takes over, the old master rejoins as a replica) and flush
    /// every master.
    /// </summary>
    public bool RedisCluster { get; init; }

    public string ReportPath { get; init; } = "chaos-report.md";

    /// <summary>Where service output is kept for a failed run (null: not kept).</summary>
    public string? LogDirectory { get; init; }

    /// <summary>The version the normal test command runs: a few hundred posts, each fault once.</summary>
    public static ChaosOptions Small(int seed = 7) => new()
    {
        Posts = 300,
        Seed = seed,
        Users = 3,
        Window = TimeSpan.FromSeconds(75),
        Bursts = 2,
        FaultRounds = 1,
        RedisOutage = TimeSpan.FromSeconds(8),
        SchedulerOutage = TimeSpan.FromSeconds(12),
        EmulatorFaultDuration = TimeSpan.FromSeconds(4),
        ConvergenceBound = TimeSpan.FromSeconds(150),
        ReportPath = Path.Combine(Path.GetTempPath(), $"chaos-report-{seed}.md"),
    };

    public const string Usage = """
        usage: ./build.sh chaos [--posts N] [--seed S] [--users N] [--window SECONDS] [--bursts N] [--rounds N]
                                [--redis-outage SECONDS] [--scheduler-outage SECONDS] [--convergence SECONDS]
                                [--platforms whatsapp,instagram] [--report PATH] [--small] [--redis-cluster]
        """;

    /// <summary>Reads the command line; without --window the window grows with the number of posts.</summary>
    public static ChaosOptions Parse(IReadOnlyList<string> args)
    {
        var options = args.Contains("--small") ? Small() with { ReportPath = "chaos-report.md" } : new ChaosOptions();
        var windowGiven = false;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--small")
            {
                continue;
            }
            if (name == "--redis-cluster")
            {
                options = options with { RedisCluster = true };
                continue;
            }
            if (i + 1 >= args.Count)
            {
                throw new ArgumentException($"{name} needs a value.{Environment.NewLine}{Usage}");
            }
            var value = args[++i];
            options = name switch
            {
                "--posts" => options with { Posts = Positive(name, value) },
                "--seed" => options with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                "--users" => options with { Users = Positive(name, value) },
                "--window" => options with { Window = Seconds(name, value) },
                "--bursts" => options with { Bursts = int.Parse(value, CultureInfo.InvariantCulture) },
                "--rounds" => options with { FaultRounds = Positive(name, value) },
                "--redis-outage" => options with { RedisOutage = Seconds(name, value) },
                "--scheduler-outage" => options with { SchedulerOutage = Seconds(name, value) },
                "--convergence" => options with { ConvergenceBound = Seconds(name, value) },
                "--platforms" => options with { Platforms = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--report" => options with { ReportPath = value },
                "--logs" => options with { LogDirectory = value },
                _ => throw new ArgumentException($"Unknown option {name}.{Environment.NewLine}{Usage}"),
            };
            windowGiven |= name == "--window";
        }
        if (!windowGiven && !args.Contains("--small"))
        {
            // About eight posts due per second on average, never less than a minute and a half.
            options = options with { Window = TimeSpan.FromSeconds(Math.Clamp(options.Posts / 8, 90, 900)) };
        }
        return options;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} must be a positive integer, got '{value}'.");

    private static TimeSpan Seconds(string name, string value) => TimeSpan.FromSeconds(Positive(name, value));
}
