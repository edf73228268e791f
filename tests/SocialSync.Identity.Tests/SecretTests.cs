using System.Diagnostics;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Identity.Tests;

public sealed class SecretTests
{
    public static TheoryData<string, string> Refusals => new()
    {
        { "Host=127.0.0.1;Port=1;Username=socialsync_identity;Database=identitydb", "the Password of ConnectionStrings:identitydb is not set" },
        { $"Host=127.0.0.1;Port=1;Username=socialsync_identity;Password={UserTokenOptions.DevelopmentSigningKey};Database=identitydb",
            "the Password of ConnectionStrings:identitydb is a value published" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Outside_Development_the_provider_refuses_to_start_with_one_line_naming_a_refused_database_password(string connectionString, string says)
    {
        var start = new ProcessStartInfo("dotnet", [RepositoryPaths.ServiceAssembly("SocialSync.Identity")])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ConnectionStrings__identitydb"] = connectionString;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(SecretSettings.ExitCode, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(says, line, StringComparison.Ordinal);
    }
}
