using System.Diagnostics;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// No key or password has a default that ships: outside Development every service refuses to start when a secret
/// setting is missing, too short, or a value written in this repository, with one line naming the setting.
/// </summary>
public sealed class SecretSettingsTests
{
    public static TheoryData<string, string, string?, string> Refusals => new()
    {
        // service, setting (as an environment variable), value (null: unset), what the line says
        { "PostsService", "Auth__Users__SigningKey", UserTokenOptions.DevelopmentSigningKey, "Auth:Users:SigningKey is a value published in the SocialSync repository" },
        { "SchedulerService", "Auth__Services__SigningKey", null, "Auth:Services:SigningKey is not set" },
        { "PublisherService", "Auth__Services__SigningKey", "short-key", "Auth:Services:SigningKey is 9 characters long" },
        { "PostsService", "Auth__Services__SigningKey", ServiceTokenOptions.DevelopmentSigningKey, "Auth:Services:SigningKey is a value published" },
        { "PostsService", "Auth__Users__SigningKey", null, "neither Auth:Users:Authority nor Auth:Users:SigningKey is set" },
        { "PostsService", "Auth__Users__Authority", "http://idp.example.com/realms/socialsync", "Auth:Users:Authority is not an https URL" },
        { "PostsService", "Tokens__EncryptionKey", SecretSettings.DevelopmentTokenEncryptionKey, "Tokens:EncryptionKey is a value published" },
        { "PostsService", "Database__AppPassword", null, "Database:AppPassword is not set" },
        { "PublisherService", "Meta__AppSecret", null, "Meta:AppSecret is not set" },
        { "PublisherService", "Meta__WebhookVerifyToken", SecretSettings.DevelopmentWebhookVerifyToken, "Meta:WebhookVerifyToken is a value published" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_service_outside_Development_refuses_to_start_with_one_line_naming_a_refused_secret(
        string service, string setting, string? value, string says)
    {
        var (exitCode, stderr) = await RunAsync(service, new Dictionary<string, string?> { [setting] = value }, "Production");

        Assert.Equal(SecretSettings.ExitCode, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(says, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostsService_outside_Development_refuses_a_user_key_equal_to_the_service_key()
    {
        var (exitCode, stderr) = await RunAsync("PostsService",
            new Dictionary<string, string?> { ["Auth__Users__SigningKey"] = TestTokens.ServiceSigningKey }, "Production");

        Assert.Equal(SecretSettings.ExitCode, exitCode);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("Auth:Users:SigningKey equals Auth:Services:SigningKey", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Development_a_missing_secret_falls_back_and_the_service_starts()
    {
        // Without PostgreSQL PostsService stops later, at its migration; it must not stop for the secrets.
        var unset = new Dictionary<string, string?>
        {
            ["Auth__Users__SigningKey"] = null, ["Auth__Services__SigningKey"] = null, ["Tokens__EncryptionKey"] = null, ["Database__AppPassword"] = null,
        };
        var (exitCode, stderr) = await RunAsync("PostsService", unset, "Development",
            extra: new() { ["ConnectionStrings__postsdb"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=1" });

        Assert.NotEqual(SecretSettings.ExitCode, exitCode);
        Assert.DoesNotContain("refuses to start", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_secret_value_written_in_the_repository_is_refused()
    {
        var literals = RepositorySecrets.Literals();
        Assert.Contains(UserTokenOptions.DevelopmentSigningKey, literals); // the scan reads what it should
        var unlisted = literals.Where(v => SecretSettings.Refusal("setting", v) is null).Order(StringComparer.Ordinal).ToList();
        Assert.True(unlisted.Count == 0, $"secret values written in the repository but not refused: {string.Join(", ", unlisted)}");
    }

    [Fact]
    public void The_AppHost_names_no_value_for_its_secret_parameters()
    {
        var appHost = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "SocialSync.AppHost", "AppHost.cs"))
            + File.ReadAllText(Path.Combine(RepositoryPaths.Root, "SocialSync.AppHost", "Infrastructure", "InfrastructureExtensions.cs"));
        foreach (var parameter in new[] { "jwt-signing-key", "service-signing-key", "token-encryption-key", "postsdb-app-password", "postgres-password", "identitydb-password",
            "meta-app-secret", "meta-webhook-verify-token" })
        {
            Assert.Contains($"AddGeneratedSecret(\"{parameter}\")", appHost, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("AddParameter(\"", appHost.Replace("AddParameter(name,", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stderr)> RunAsync(string project, Dictionary<string, string?> secrets, string environment,
        Dictionary<string, string?>? extra = null)
    {
        var start = new ProcessStartInfo("dotnet", [RepositoryPaths.ServiceAssembly(project)])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = environment;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = environment;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["Logging__LogLevel__Default"] = "None";
        foreach (var (key, value) in TestTokens.ServiceSecrets.Concat(secrets).Concat(extra ?? []))
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{project} neither refused nor stopped within 60 s: {await stderr}");
        }
        return (process.ExitCode, await stderr);
    }
}
