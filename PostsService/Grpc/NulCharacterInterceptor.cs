using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Grpc;

/// <summary>
/// PostgreSQL text and jsonb cannot hold U+0000, so a string carrying one would fail in the database. Every string
/// of every request is checked up front and refused by name (INVALID_ARGUMENT), whatever the RPC.
/// </summary>
public sealed class NulCharacterInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (request is IMessage message)
        {
            var violations = new FieldViolations();
            Check(message, "", violations);
            violations.ThrowIfAny();
        }
        return continuation(request, context);
    }

    private static void Check(IMessage message, string prefix, FieldViolations violations)
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            if (field.IsMap)
            {
                continue;
            }
            var name = prefix + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated && value is IList items)
            {
                for (var i = 0; i < items.Count; i++)
                {
                    CheckValue(field, items[i], $"{name}[{i}]", violations);
                }
            }
            else
            {
                CheckValue(field, value, name, violations);
            }
        }
    }

    private static void CheckValue(FieldDescriptor field, object? value, string name, FieldViolations violations)
    {
        if (value is string text && text.Contains('\0', StringComparison.Ordinal))
        {
            violations.Add(name, "must not contain the NUL character (U+0000)");
        }
        else if (field.FieldType == FieldType.Message && value is IMessage nested)
        {
            Check(nested, name + ".", violations);
        }
    }
}
