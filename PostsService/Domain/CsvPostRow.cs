using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Domain;

/// <summary>One data row of an import file: the create it asks for, where it sits in the file, and what is wrong with its cells.</summary>
public sealed record CsvPostRow(int Index, int Line, CreatePostRequest Request)
{
    /// <summary>The template the row's content is made from (its text and media then come from it), or null.</summary>
    public Guid? TemplateId { get; set; }

    /// <summary>Whether the row's template cell holds anything (an id or not): its content is then the template's, not its own.</summary>
    public bool NamesTemplate { get; set; }

    /// <summary>The values of the template's variables, by name.</summary>
    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    /// <summary>The row's bad cells, named by column (e.g. "publish_at"), found while reading the file.</summary>
    public FieldViolations CellViolations { get; } = new();
}
