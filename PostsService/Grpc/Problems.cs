using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using SocialSync.Contracts;

namespace SocialSync.PostsService.Grpc;

/// <summary>Builds the precise gRPC errors of Google AIP-193: each bad field named, nothing else leaked.</summary>
public static class Problems
{
    public static RpcException NotFound(string resource, string id) =>
        new(new global::Grpc.Core.Status(StatusCode.NotFound, $"{resource} '{id}' was not found."));

    public static RpcException FailedPrecondition(string message) =>
        new(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, message));

    public static RpcException Aborted(string message) =>
        new(new global::Grpc.Core.Status(StatusCode.Aborted, message));

    public static RpcException InvalidArgument(string field, string description) =>
        new FieldViolations().Add(field, description).ToException();
}

/// <summary>Collects every bad field of a request, then throws one INVALID_ARGUMENT with a google.rpc.BadRequest.</summary>
public sealed class FieldViolations : IFieldViolations
{
    private readonly BadRequest _badRequest = new();

    public bool Any => _badRequest.FieldViolations.Count > 0;

    public FieldViolations Add(string field, string description)
    {
        _badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        return this;
    }

    void IFieldViolations.Add(string field, string description) => Add(field, description);

    public RpcException ToException()
    {
        var message = string.Join("; ", _badRequest.FieldViolations.Select(v => $"{v.Field}: {v.Description}"));
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(_badRequest) },
        };
        return status.ToRpcException();
    }

    public void ThrowIfAny()
    {
        if (Any)
        {
            throw ToException();
        }
    }
}
