using System.Text.RegularExpressions;
using SocialSync.ServiceDefaults.Security;
using SocialSync.Testing;

namespace SocialSync.Abuse.Tests;

/// <summary>Every secret-like value anyone can read in this repository: what a deployment must never accept.</summary>
public static partial class RepositorySecrets
{
    /// <summary>
    /// Literals assigned to a secret setting (Auth:Users:SigningKey, Auth:Services:SigningKey, Tokens:EncryptionKey,
    /// Database:AppPassword, the AppHost's parameters and the PostgreSQL password) anywhere in tracked text.
    /// </summary>
    public static IReadOnlySet<string> Literals()
    {
        var literals = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(RepositoryPaths.Root, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains($"{Path.DirectorySeparatorChar}.git{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                                 && !f.Contains("node_modules", StringComparison.Ordinal))
                     .Where(f => Path.GetExtension(f) is ".cs" or ".json" or ".sh" or ".md" or ".yml" or ".yaml"))
        {
            foreach (var line in File.ReadLines(file).Where(l => SecretName().IsMatch(l)))
            {
                foreach (Match literal in Literal().Matches(line))
                {
                    literals.Add(literal.Groups["value"].Value);
                }
            }
        }
        return literals;
    }

    /// <summary>The published list and every literal of the scan: the keys an attacker would try first.</summary>
    public static IReadOnlySet<string> Keys() => SecretSettings.Published.Concat(Literals()).ToHashSet(StringComparer.Ordinal);

    // A line that names a secret setting, and a quoted literal of 8+ characters on it.
    [GeneratedRegex(@"SigningKey|EncryptionKey|AppPassword|AppSecret|VerifyToken|POSTGRES_PASSWORD|postgres-password|app-password|signing-key|encryption-key|app-secret|verify-token")]
    private static partial Regex SecretName();

    [GeneratedRegex("\"(?<value>[^\"\\s{}$()|]{8,})\"")]
    private static partial Regex Literal();
}
