using SocialSync.Benchmarks;

var options = BenchmarkOptions.Parse(args);
var report = await BenchmarkRun.RunAsync(options, Console.Out);
var path = await report.WriteAsync(options.OutputDirectory);
Console.WriteLine($"report: {path}");
