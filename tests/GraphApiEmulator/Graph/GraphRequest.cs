using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>A Graph API request: path split into version/node/edge, and all parameters (query, form, JSON body) merged.</summary>
public sealed class GraphRequest
{
    public required string Method { get; init; }

    public required string Path { get; init; }

    public string? Version { get; init; }

    /// <summary>Path segments after the optional version prefix.</summary>
    public required IReadOnlyList<string> Segments { get; init; }

    /// <summary>Query, then form, then JSON body properties (later ones win).</summary>
    public required JsonObject Params { get; init; }

    public string? RawBody { get; init; }

    public bool BodyIsJson { get; init; }

    public string? ContentType { get; init; }

    public string? Query { get; init; }

    public string? Token { get; init; }

    public string? Str(string name) => Str(Params[name]);

    public static string? Str(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

    public bool Bool(string name) => Params[name] switch
    {
        JsonValue value when value.TryGetValue<bool>(out var b) => b,
        JsonValue value when value.TryGetValue<string>(out var s) => s.Equals("true", StringComparison.OrdinalIgnoreCase) || s == "1",
        _ => false,
    };

    public static async Task<GraphRequest> ReadAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string? version = null;
        if (segments.Length > 0 && IsVersion(segments[0]))
        {
            version = segments[0];
            segments = segments[1..];
        }

        var parameters = new JsonObject();
        foreach (var (key, values) in request.Query)
        {
            parameters[key] = ParseLoose(values.ToString());
        }

        string? rawBody = null;
        var bodyIsJson = false;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(context.RequestAborted);
            var formJson = new JsonObject();
            foreach (var (key, values) in form)
            {
                parameters[key] = ParseLoose(values.ToString());
                formJson[key] = values.ToString();
            }

            rawBody = formJson.ToJsonString();
            bodyIsJson = true;
        }
        else if (request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0))
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            rawBody = await reader.ReadToEndAsync(context.RequestAborted);
            var trimmed = rawBody.AsSpan().TrimStart();
            if (trimmed.Length > 0 && (trimmed[0] == '{' || trimmed[0] == '['))
            {
                try
                {
                    if (JsonNode.Parse(rawBody) is JsonObject body)
                    {
                        bodyIsJson = true;
                        foreach (var (key, value) in body.ToArray())
                        {
                            body.Remove(key);
                            parameters[key] = value;
                        }
                    }
                }
                catch (JsonException)
                {
                    bodyIsJson = false;
                }
            }
        }

        string? token = null;
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            var space = authorization.IndexOf(' ');
            token = space > 0 ? authorization[(space + 1)..].Trim() : authorization.Trim();
        }

        if (string.IsNullOrEmpty(token))
        {
            token = Str(parameters["access_token"]);
        }

        return new GraphRequest
        {
            Method = request.Method,
            Path = path,
            Version = version,
            Segments = segments,
            Params = parameters,
            RawBody = rawBody,
            BodyIsJson = bodyIsJson,
            ContentType = request.ContentType,
            Query = request.QueryString.HasValue ? request.QueryString.Value : null,
            Token = string.IsNullOrEmpty(token) ? null : token,
        };
    }

    /// <summary>True for "v23.0"-style segments.</summary>
    public static bool IsVersion(string segment)
    {
        if (segment.Length < 4 || segment[0] != 'v')
        {
            return false;
        }

        var dot = segment.IndexOf('.');
        if (dot < 2 || dot == segment.Length - 1)
        {
            return false;
        }

        for (var i = 1; i < segment.Length; i++)
        {
            if (i != dot && !char.IsAsciiDigit(segment[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static JsonNode? ParseLoose(string value)
    {
        if (value.Length > 1 && (value[0] == '{' || value[0] == '['))
        {
            try
            {
                return JsonNode.Parse(value);
            }
            catch (JsonException)
            {
                // not JSON: keep the string
            }
        }

        return JsonValue.Create(value);
    }
}
