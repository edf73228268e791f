using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Control;

/// <summary>Reads control-API JSON whatever the key style: pathRegex, path_regex and path-regex are the same key.</summary>
internal static class Lenient
{
    public static bool TryGet(JsonObject? obj, string name, out JsonNode? value)
    {
        value = null;
        if (obj is null)
        {
            return false;
        }

        var wanted = Normalize(name);
        foreach (var (key, node) in obj)
        {
            if (Normalize(key) == wanted)
            {
                value = node;
                return true;
            }
        }

        return false;
    }

    public static JsonNode? Get(JsonObject? obj, string name) => TryGet(obj, name, out var value) ? value : null;

    public static string? Str(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var node => node.ToJsonString(),
    };

    public static int? Int(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonValue v when v.TryGetValue<double>(out var d) => checked((int)d),
        JsonValue v when v.TryGetValue<string>(out var s) && int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
        var node => throw new ControlException($"'{name}' must be an integer, got {node.ToJsonString()}"),
    };

    public static double? Double(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<string>(out var s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        var node => throw new ControlException($"'{name}' must be a number, got {node.ToJsonString()}"),
    };

    public static bool? Bool(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) && bool.TryParse(s, out var b) => b,
        var node => throw new ControlException($"'{name}' must be a boolean, got {node.ToJsonString()}"),
    };

    public static JsonObject? Obj(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonObject o => o,
        var node => throw new ControlException($"'{name}' must be an object, got {node.ToJsonString()}"),
    };

    public static List<string>? Strings(JsonObject? obj, string name) => Get(obj, name) switch
    {
        null => null,
        JsonArray array => array.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n?.ToJsonString() ?? "").ToList(),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        var node => throw new ControlException($"'{name}' must be an array of strings, got {node.ToJsonString()}"),
    };

    public static async Task<JsonObject> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength == 0)
        {
            return [];
        }

        try
        {
            var node = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return node as JsonObject ?? throw new ControlException("the body must be a JSON object");
        }
        catch (JsonException ex)
        {
            if (request.ContentLength is null && ex.BytePositionInLine == 0 && ex.LineNumber == 0)
            {
                return [];
            }

            throw new ControlException($"invalid JSON: {ex.Message}");
        }
    }

    private static string Normalize(string key)
    {
        Span<char> buffer = key.Length <= 128 ? stackalloc char[key.Length] : new char[key.Length];
        var n = 0;
        foreach (var c in key)
        {
            if (c is not ('_' or '-'))
            {
                buffer[n++] = char.ToLowerInvariant(c);
            }
        }

        return new string(buffer[..n]);
    }
}

/// <summary>A bad control-API request; answered with 400 <c>{"error":"..."}</c>.</summary>
public sealed class ControlException(string message) : Exception(message);
