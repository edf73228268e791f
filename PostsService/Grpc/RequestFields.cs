using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SocialSync.ServiceDefaults.Security;

namespace SocialSync.PostsService.Grpc;

/// <summary>Parsing helpers that name the field they reject.</summary>
public static class RequestFields
{
    public static Guid UserId(this ServerCallContext context) =>
        context.GetHttpContext().User.GetUserId()
        ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "A user token with a UUID 'sub' claim is required."));

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
}
