using System.Diagnostics;
using Microsoft.IdentityModel.JsonWebTokens;
using SocialSync.Testing;

namespace SocialSync.Identity.Tests;

/// <summary><c>./build.sh token --identity</c> runs the provider's <c>token</c> command against the running provider.</summary>
public sealed class CommandLineTests(IdentityFixture fixture) : IClassFixture<IdentityFixture>
{
    private async Task<(int ExitCode, string Stdout, string Stderr)> TokenAsync(string email, string password)
    {
        var start = new ProcessStartInfo("dotnet",
            [RepositoryPaths.ServiceAssembly("SocialSync.Identity"), "token", "--issuer", fixture.Issuer.AbsoluteUri, "--email", email, "--password", password])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, (await stdout).Trim(), await stderr);
    }

    [Fact]
    public async Task The_token_command_signs_a_new_account_up_then_signs_it_in_and_prints_its_access_token()
    {
        var email = IdentityFixture.NewEmail();

        var first = await TokenAsync(email, IdentityFixture.Password);
        var second = await TokenAsync(email, IdentityFixture.Password);

        var userId = (await fixture.UserIdAsync(email)).ToString();
        foreach (var (exitCode, token, stderr) in new[] { first, second })
        {
            Assert.True(exitCode == 0, stderr);
            var validation = await fixture.ValidateAsync(token);
            Assert.True(validation.IsValid, validation.Exception?.Message);
            Assert.Equal(userId, ((JsonWebToken)validation.SecurityToken).Subject);
        }
    }

    [Fact]
    public async Task The_token_command_with_a_wrong_password_for_an_existing_account_prints_no_token_and_fails()
    {
        var (browser, email) = await fixture.SignedUpAsync();
        browser.Dispose();

        var (exitCode, stdout, stderr) = await TokenAsync(email, "not the password at all");

        Assert.Equal(1, exitCode);
        Assert.Equal("", stdout);
        Assert.Contains("no token from", stderr, StringComparison.Ordinal);
    }
}
