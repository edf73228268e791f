using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Api;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http.Extensions;

namespace SocialSync.PostsService.Rest;

/// <summary>
/// The original REST contract's conventions on top of gRPC JSON transcoding, for transcoded routes only:
/// enum values may be written in the original contract's words, in any case ("image", "whatsapp", "queued" for
/// MEDIA_TYPE_IMAGE, PLATFORM_WHATSAPP, POST_STATUS_QUEUED), in a JSON body or a query string; and a successful
/// POST that creates (Create*) answers 201 Created. Everything else (field names, validation, errors) is the
/// transcoder's and the service's own.
/// </summary>
public sealed class RestConventionsMiddleware(RequestDelegate next)
{
    // Larger bodies are left untouched (the transcoder and the service reject what they must).
    private const int MaxRewrittenBody = 1 << 20;

    public async Task InvokeAsync(HttpContext context)
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        if (metadata is null)
        {
            await next(context);
            return;
        }

        var input = metadata.MethodDescriptor.InputType;
        if (context.Request.QueryString.HasValue)
        {
            context.Request.QueryString = NormalizeQuery(context.Request.Query, input);
        }
        // The body is the request ("*") or one of its message fields (e.g. "template").
        var bodyType = metadata.HttpRule.Body == "*" ? input
            : metadata.HttpRule.Body.Length > 0 ? input.FindFieldByName(metadata.HttpRule.Body)?.MessageType
            : null;
        if (bodyType is not null)
        {
            // These routes take JSON only: a body sent without a JSON content type (curl -d's default) is read as JSON.
            if (context.Request.ContentType is null
                || context.Request.ContentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
            {
                context.Request.ContentType = "application/json";
            }
            await NormalizeBodyAsync(context.Request, bodyType);
        }
        if (metadata.HttpRule.PatternCase == HttpRule.PatternOneofCase.Post
            && metadata.MethodDescriptor.Name.StartsWith("Create", StringComparison.Ordinal))
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status200OK)
                {
                    context.Response.StatusCode = StatusCodes.Status201Created;
                }
                return Task.CompletedTask;
            });
        }
        await next(context);
    }

    private static QueryString NormalizeQuery(IQueryCollection query, MessageDescriptor input)
    {
        var builder = new QueryBuilder();
        foreach (var (key, values) in query)
        {
            var field = ResolvePath(input, key);
            foreach (var value in values)
            {
                builder.Add(key, field?.FieldType == FieldType.Enum && value is not null
                    ? ProtoEnumName(field.EnumType, value) ?? value
                    : value ?? "");
            }
        }
        return builder.ToQueryString();
    }

    private static async Task NormalizeBodyAsync(HttpRequest request, MessageDescriptor input)
    {
        if (request.ContentLength is 0 or > MaxRewrittenBody)
        {
            return;
        }
        request.EnableBuffering(MaxRewrittenBody);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        if (buffer.Length > MaxRewrittenBody)
        {
            request.Body.Position = 0;
            return;
        }
        var bytes = buffer.ToArray();
        try
        {
            if (JsonNode.Parse(bytes) is JsonObject body && NormalizeMessage(body, input))
            {
                bytes = JsonSerializer.SerializeToUtf8Bytes(body);
            }
        }
        catch (JsonException)
        {
            // Not JSON: the transcoder answers 400 with its own message.
        }
        request.Body = new MemoryStream(bytes);
        request.ContentLength = bytes.Length;
    }

    /// <summary>Rewrites the enum words of <paramref name="json"/> in place; true when anything changed.</summary>
    private static bool NormalizeMessage(JsonObject json, MessageDescriptor descriptor)
    {
        var changed = false;
        foreach (var (name, node) in json.ToList())
        {
            var field = FindField(descriptor, name);
            if (field is null || node is null || field.IsMap)
            {
                continue;
            }
            if (node is JsonArray array && field.IsRepeated)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    if (NormalizeValue(array[i], field) is { } replaced)
                    {
                        array[i] = replaced;
                        changed = true;
                    }
                    else if (array[i] is JsonObject item && field.FieldType == FieldType.Message)
                    {
                        changed |= NormalizeMessage(item, field.MessageType);
                    }
                }
            }
            else if (NormalizeValue(node, field) is { } replaced)
            {
                json[name] = replaced;
                changed = true;
            }
            else if (node is JsonObject child && field.FieldType == FieldType.Message && !IsWellKnown(field.MessageType))
            {
                changed |= NormalizeMessage(child, field.MessageType);
            }
        }
        return changed;
    }

    private static JsonNode? NormalizeValue(JsonNode? node, FieldDescriptor field) =>
        field.FieldType == FieldType.Enum
        && node is JsonValue value && value.TryGetValue<string>(out var text)
        && ProtoEnumName(field.EnumType, text) is { } name && name != text
            ? JsonValue.Create(name)
            : null;

    /// <summary>"image" → MEDIA_TYPE_IMAGE for enum MediaType; the value's own name in any case; else null.</summary>
    internal static string? ProtoEnumName(EnumDescriptor type, string word)
    {
        var prefix = EnumPrefix(type.Name);
        foreach (var value in type.Values)
        {
            if (string.Equals(value.Name, word, StringComparison.OrdinalIgnoreCase)
                || (value.Name.StartsWith(prefix, StringComparison.Ordinal)
                    && string.Equals(value.Name[prefix.Length..], word, StringComparison.OrdinalIgnoreCase)))
            {
                return value.Name;
            }
        }
        return null;
    }

    /// <summary>MediaType → "MEDIA_TYPE_", the protobuf style guide's value prefix.</summary>
    private static string EnumPrefix(string typeName)
    {
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < typeName.Length; i++)
        {
            if (i > 0 && char.IsUpper(typeName[i]))
            {
                builder.Append('_');
            }
            builder.Append(char.ToUpperInvariant(typeName[i]));
        }
        return builder.Append('_').ToString();
    }

    private static FieldDescriptor? ResolvePath(MessageDescriptor descriptor, string path)
    {
        FieldDescriptor? field = null;
        foreach (var part in path.Split('.'))
        {
            field = FindField(descriptor, part);
            if (field is null)
            {
                return null;
            }
            if (field.FieldType == FieldType.Message)
            {
                descriptor = field.MessageType;
            }
        }
        return field;
    }

    private static FieldDescriptor? FindField(MessageDescriptor descriptor, string name) =>
        descriptor.FindFieldByName(name) ?? descriptor.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == name);

    private static bool IsWellKnown(MessageDescriptor descriptor) =>
        descriptor.File.Package == "google.protobuf";
}
