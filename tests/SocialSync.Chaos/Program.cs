using SocialSync.Chaos;

ChaosOptions options;
try
{
    options = ChaosOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}

var command = "./build.sh chaos" + (args.Length > 0 ? " " + string.Join(' ', args) : "");
var result = await ChaosRun.RunAsync(options, Console.Out, command);
return result.Passed ? 0 : 1;
