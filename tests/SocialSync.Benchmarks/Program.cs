using SocialSync.Benchmarks;

var options = BenchmarkOptions.Parse(args);
if (options.Studio)
{
    var studio = await StudioRun.RunAsync(Console.Out);
    Console.WriteLine($"report: {await studio.WriteAsync(options.OutputDirectory)}");
    return 0;
}
if (options.Million)
{
    var million = await MillionRun.RunAsync(options, Console.Out);
    Console.WriteLine($"report: {await million.WriteAsync(options.OutputDirectory)}");
    return 0;
}
if (options.Soak)
{
    var soak = await SoakRun.RunAsync(options, Console.Out);
    Console.WriteLine($"report: {await soak.WriteAsync(options.OutputDirectory)}");
    Console.WriteLine(soak.Passed ? "soak: PASS" : "soak: FAIL (memory kept growing after warm-up, or a post was lost or published twice)");
    return soak.Passed ? 0 : 1;
}
var report = await BenchmarkRun.RunAsync(options, Console.Out);
var path = await report.WriteAsync(options.OutputDirectory);
Console.WriteLine($"report: {path}");
return 0;
