using SocialSync.Contracts;

namespace SocialSync.PostsService.Domain;

/// <summary>One bad field of a request: its path (e.g. <c>requests[2].content.text</c>) and what is wrong with it.</summary>
public sealed record FieldViolation(string Field, string Description);

/// <summary>Collects every bad field of a request, then throws one <see cref="InvalidRequestException"/> naming them all.</summary>
public sealed class FieldViolations : IFieldViolations
{
    private readonly List<FieldViolation> _violations = [];

    public bool Any => _violations.Count > 0;

    public IReadOnlyList<FieldViolation> All => _violations;

    public FieldViolations Add(string field, string description)
    {
        _violations.Add(new FieldViolation(field, description));
        return this;
    }

    void IFieldViolations.Add(string field, string description) => Add(field, description);

    public InvalidRequestException ToException() => new(_violations.ToArray());

    public void ThrowIfAny()
    {
        if (Any)
        {
            throw ToException();
        }
    }

    /// <summary>The failure of a request with one bad field.</summary>
    public static InvalidRequestException Single(string field, string description) =>
        new FieldViolations().Add(field, description).ToException();
}
