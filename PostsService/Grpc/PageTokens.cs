using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>Opaque page tokens (AIP-158): callers must not build them, so their form may change.</summary>
public static class PageTokens
{
    public static string Encode(int offset) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"o1:{offset}"));

    public static int? Decode(string token)
    {
        try
        {
            var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(token));
            return text.StartsWith("o1:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(3), out var offset) && offset >= 0 ? offset : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The offset <paramref name="token"/> carries, or <paramref name="start"/> when none was sent; a token this API
    /// did not issue is a violation of page_token.
    /// </summary>
    public static int Parse(string token, FieldViolations violations, int start = 0)
    {
        if (string.IsNullOrEmpty(token))
        {
            return start;
        }
        if (Decode(token) is { } offset)
        {
            return offset;
        }
        violations.Add("page_token", "is not a token this API issued");
        return -1;
    }

    /// <summary>
    /// A list request's page: its size (0 asks for <paramref name="defaultSize"/>) and the offset its token carries;
    /// a size outside 1..<paramref name="maxSize"/> is a violation of page_size, a foreign token of page_token.
    /// </summary>
    public static (int Size, int Offset) ParsePage(int pageSize, string pageToken, FieldViolations violations,
        int defaultSize = PostRequests.DefaultPageSize, int maxSize = PostRequests.MaxPageSize)
    {
        var size = pageSize == 0 ? defaultSize : pageSize;
        if (size is < 1 || size > maxSize)
        {
            violations.Add("page_size", $"must be between 1 and {maxSize} (0 means {defaultSize})");
        }
        return (size, Parse(pageToken, violations));
    }

    /// <summary>The token of the page after one read at <paramref name="offset"/>, or "" when it was the last.</summary>
    public static string Next(bool more, int offset, int size) => more ? Encode(offset + size) : "";
}
