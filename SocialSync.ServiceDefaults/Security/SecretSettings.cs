using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace SocialSync.ServiceDefaults.Security;

/// <summary>
/// Keys and passwords have no default that ships. Outside Development a service refuses to start (one line on
/// standard error naming the setting, exit code 78, EX_CONFIG) when a secret setting is missing, shorter than its
/// minimum, or equal to a value that is written in this repository: anyone can read those, so a deployment that
/// forgot the setting must not quietly accept tokens anyone can mint. The AppHost generates every one of them for a
/// local run (docs/security.md). In Development a missing setting falls back to the published development value.
/// </summary>
public static class SecretSettings
{
    public const int ExitCode = 78;

    /// <summary>The minimum length of every secret: 32 characters, 256 bits of a random alphanumeric value and more.</summary>
    public const int MinimumLength = 32;

    /// <summary>
    /// Every secret-like value written in this repository, past or present (defaults, examples, test literals).
    /// <c>SecretSettingsTests</c> scans the repository and fails when a value assigned to a secret setting is missing here.
    /// </summary>
    public static IReadOnlySet<string> Published { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        UserTokenOptions.DevelopmentSigningKey,
        ServiceTokenOptions.DevelopmentSigningKey,
        DevelopmentTokenEncryptionKey,
        DevelopmentDatabasePassword,
        DevelopmentMetaAppSecret,
        DevelopmentWebhookVerifyToken,
        "socialsync-dev-password",
        "socialsync-development-token-key",
        "another-signing-key-that-is-long-enough-0123456789",
        "an-attacker-signing-key-that-is-long-enough-0123456789",
    };

    public const string DevelopmentTokenEncryptionKey = "c29jaWFsc3luYy1kZXYtdG9rZW4ta2V5LTMyYnl0ZXM=";
    public const string DevelopmentDatabasePassword = "socialsync-app-dev-password";
    public const string DevelopmentMetaAppSecret = "socialsync-development-meta-app-secret-0123456789";
    public const string DevelopmentWebhookVerifyToken = "socialsync-development-webhook-verify-token-0123";

    /// <summary>Why <paramref name="value"/> cannot serve as the secret <paramref name="setting"/>, or null when it can.</summary>
    public static string? Refusal(string setting, string? value) => value switch
    {
        null or "" => $"{setting} is not set: give it a random value of at least {MinimumLength} characters.",
        { Length: < MinimumLength } => $"{setting} is {value.Length} characters long: it needs at least {MinimumLength}.",
        _ when Published.Contains(value) => $"{setting} is a value published in the SocialSync repository: anyone can read it; set a random one.",
        _ => null,
    };

    /// <summary>
    /// The secret <paramref name="setting"/>: outside Development a refused value stops the process with one line
    /// naming the setting; in Development a missing one falls back to <paramref name="developmentValue"/>.
    /// </summary>
    public static string Require(IConfiguration configuration, IHostEnvironment environment, string setting, string developmentValue)
    {
        var value = configuration[setting];
        if (environment.IsDevelopment())
        {
            return string.IsNullOrEmpty(value) ? developmentValue : value;
        }
        RequireOutsideDevelopment(environment, setting, value);
        return value!;
    }

    /// <summary>
    /// A secret already read from its setting (e.g. the password inside a connection string): outside Development a
    /// refused value stops the process with one line naming <paramref name="setting"/>; in Development anything goes.
    /// </summary>
    public static void RequireOutsideDevelopment(IHostEnvironment environment, string setting, string? value)
    {
        if (!environment.IsDevelopment() && Refusal(setting, value) is { } refusal)
        {
            RefuseToStart(environment, refusal);
        }
    }

    /// <summary>Stops the process with one line on standard error saying why, and exit code 78 (EX_CONFIG).</summary>
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    public static void RefuseToStart(IHostEnvironment environment, string reason)
    {
        Console.Error.WriteLine($"{environment.ApplicationName} refuses to start: {reason}");
        Console.Error.Flush();
        Environment.Exit(ExitCode);
    }
}
