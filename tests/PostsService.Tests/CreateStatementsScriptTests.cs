using System.Text.RegularExpressions;
using SocialSync.PostsService.Data;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// bench/create-statements.sh measures PostgreSQL alone on the unary create's group commit (docs/scale.md). It
/// replays <see cref="PostInserts"/>' statements with literal values in place of the parameters; these tests hold
/// that copy to the code, so a change to the statements that is not carried to the script fails here instead of
/// quietly measuring something else.
/// </summary>
public sealed class CreateStatementsScriptTests
{
    private static readonly string Script = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "bench", "create-statements.sh"));

    [Fact]
    public void The_script_names_the_group_commits_users_as_the_create_does() =>
        AssertReplayed(PostInserts.SetGroupCommitUsersSql);

    [Fact]
    public void The_script_reads_the_channels_with_the_creates_statement() =>
        AssertReplayed(PostInserts.ChannelsReadSql);

    [Fact]
    public void The_script_inserts_the_posts_with_the_creates_statement() =>
        AssertReplayed(PostInserts.InsertSql);

    [Fact]
    public void A_copy_that_differs_in_one_column_is_told_apart()
    {
        // The match is loose only where the code has a parameter: the same statement with one returned column
        // dropped must not pass for it.
        var drifted = Script.Replace("review_comment;", ";", StringComparison.Ordinal);
        Assert.NotEqual(Script, drifted);
        Assert.DoesNotMatch(Replay(PostInserts.InsertSql), drifted);
    }

    private static void AssertReplayed(string statement) =>
        Assert.True(Replay(statement).IsMatch(Script),
            $"bench/create-statements.sh no longer replays this statement of PostInserts; copy it there again:\n{statement}");

    /// <summary>
    /// The statement as a pattern over the script: SQL comments dropped, any run of white space equal to any other,
    /// each positional parameter ($1, $2, ...) standing for the literal the script writes in its place, and nothing
    /// but the statement's end after it.
    /// </summary>
    private static Regex Replay(string statement)
    {
        var words = Regex.Replace(statement, "--[^\n]*", " ").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var pattern = string.Join(@"\s+", words.Select(word => Regex.Replace(Regex.Escape(word), @"\\\$\d+", ".+?")));
        // Fifteen lazy wildcards in one pattern would backtrack without end on a script that drifted; the
        // non-backtracking engine answers in time linear in the script.
        return new Regex(pattern + @"\s*;", RegexOptions.Singleline | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    }
}
