using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.PostsService.Domain;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>Parsing helpers that name the field they reject.</summary>
public static class RequestFields
{
    public static Guid UserId(this ServerCallContext context) =>
        context.GetHttpContext().User.GetUserId()
        ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "A user token with a UUID 'sub' claim is required."));

    /// <summary>The caller's e-mail address from their token's email claim, when it carries a plausible one.</summary>
    public static string? UserEmail(this ServerCallContext context) =>
        context.GetHttpContext().User.FindFirst("email")?.Value is { Length: > 2 and <= 320 } email && email.Contains('@') ? email : null;

    /// <summary>
    /// Whether a REST call names <paramref name="name"/> in its query string. JSON transcoding binds <c>?limit=0</c>
    /// to a proto3 int32 that reads 0 whether it was sent or not, so the original REST contract's ranges need this
    /// to refuse an explicit 0. False for gRPC and gRPC-Web calls, which have no query string.
    /// </summary>
    public static bool QueryNames(this ServerCallContext context, string name) =>
        context.GetHttpContext().Request.Query.ContainsKey(name);

    /// <summary>
    /// A REST limit of the original contract: <paramref name="limit"/> when it is in 1..<paramref name="max"/>,
    /// <paramref name="fallback"/> when it was not sent; an explicit 0, a negative or a too large value is named.
    /// </summary>
    public static int ParseLimit(int limit, bool sent, int fallback, int max, string field, FieldViolations violations)
    {
        if (limit == 0 && !sent)
        {
            return fallback;
        }
        if (limit < 1 || limit > max)
        {
            violations.Add(field, $"must be between 1 and {max}");
        }
        return limit;
    }

    public static Guid? ParseId(string value, string field, FieldViolations violations, bool required = true)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (required)
            {
                violations.Add(field, "is required");
            }
            return null;
        }
        if (Guid.TryParse(value, out var id))
        {
            return id;
        }
        violations.Add(field, "must be a UUID");
        return null;
    }

    public static Guid RequireId(string value, string field)
    {
        var violations = new FieldViolations();
        var id = ParseId(value, field, violations);
        violations.ThrowIfAny();
        return id!.Value;
    }

    /// <summary>The id (required) and etag (optional) of a request that names one row; INVALID_ARGUMENT names each bad one.</summary>
    public static (Guid Id, int? Etag) RequireIdAndEtag(string id, string etag)
    {
        var violations = new FieldViolations();
        var parsedId = ParseId(id, "id", violations);
        var parsedEtag = ParseEtag(etag, "etag", violations);
        violations.ThrowIfAny();
        return (parsedId!.Value, parsedEtag);
    }

    /// <summary>A Timestamp inside the range PostgreSQL and .NET both hold.</summary>
    public static DateTimeOffset? ParseTime(Timestamp? value, string field, FieldViolations violations)
    {
        if (value is null)
        {
            violations.Add(field, "is required");
            return null;
        }
        if (value.Seconds < 0 || value.Seconds > 253402300799 || value.Nanos is < 0 or > 999_999_999)
        {
            violations.Add(field, "is not a valid timestamp");
            return null;
        }
        return value.ToDateTimeOffset();
    }

    /// <summary>An etag this API issued (the row's version), or null when none was sent.</summary>
    public static int? ParseEtag(string value, string field, FieldViolations violations)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        // Accept the quoted form HTTP clients copy from ETag headers.
        var text = value.Trim('"');
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) && version > 0)
        {
            return version;
        }
        violations.Add(field, "is not an etag this API issued");
        return null;
    }

    /// <summary>
    /// The fields an update changes: the mask's paths when it has any (each must be one of
    /// <paramref name="allowed"/>), otherwise those <paramref name="present"/> says the request carries (AIP-134).
    /// </summary>
    public static HashSet<string> UpdatePaths(FieldMask? mask, IReadOnlyCollection<string> allowed, Func<string, bool> present, FieldViolations violations)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        if (mask is { Paths.Count: > 0 })
        {
            foreach (var path in mask.Paths)
            {
                if (path == "*")
                {
                    paths.UnionWith(allowed);
                }
                else if (allowed.Contains(path))
                {
                    paths.Add(path);
                }
                else
                {
                    violations.Add("update_mask", $"'{path}' cannot be updated; updatable: {string.Join(", ", allowed)}");
                }
            }
            return paths;
        }
        paths.UnionWith(allowed.Where(present));
        if (paths.Count == 0)
        {
            violations.Add("update_mask", $"names no field to update; updatable: {string.Join(", ", allowed)}");
        }
        return paths;
    }
}
