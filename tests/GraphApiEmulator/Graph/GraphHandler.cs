using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>The Graph API pipeline: parse, route, match faults, check the token, apply, answer, journal.</summary>
public sealed class GraphHandler(EmulatorState state, ILogger<GraphHandler> logger)
{
    private const string JsonContentType = "application/json; charset=UTF-8";

    public async Task HandleAsync(HttpContext context)
    {
        var clock = state.Clock;
        var started = clock.GetTimestamp();
        var seq = state.NextRequestSeq();
        var request = await GraphRequest.ReadAsync(context);
        var now = clock.GetUtcNow();
        var route = Resolve(request);
        if (route.Account is { } accountId && route.Operation is not (Operations.GetObject or Operations.Unsupported))
        {
            state.Account(accountId); // account edges create the account on first use
        }

        var fault = state.Faults.Match(request.Method, request.Path, route.Account, route.Recipient);

        var entry = new JournalEntry
        {
            Seq = seq,
            Time = now,
            Method = request.Method,
            Path = request.Path,
            Query = request.Query,
            Account = route.Account,
            Operation = route.Operation,
            Recipient = route.Recipient,
            Token = request.Token,
            ContentType = request.ContentType,
            RawBody = request.RawBody,
            BodyIsJson = request.BodyIsJson,
            FaultId = fault?.Id,
        };

        try
        {
            if (fault is { Drop: DropMode.Before })
            {
                await DelayAsync(fault, context);
                Drop(context, entry, "before");
                return;
            }

            var response = fault is { ReplacesResponse: true }
                ? FaultResponse(fault, route.Product)
                : Authenticate(request, route) ?? Execute(request, route, now, seq);

            if (fault is not null)
            {
                await DelayAsync(fault, context);
            }

            if (fault is { Drop: DropMode.AfterCommit })
            {
                Drop(context, entry, "after_commit");
                return;
            }

            entry.Status = response.Status;
            await WriteAsync(context, response, route, now);
        }
        finally
        {
            entry.DurationMs = clock.GetElapsedTime(started).TotalMilliseconds;
            state.Journal.Add(entry);
            state.CountRequest(entry.Dropped is not null, fault is not null);
        }
    }

    private GraphRoute Resolve(GraphRequest request)
    {
        var segments = request.Segments;
        var isPost = HttpMethods.IsPost(request.Method);
        if (segments.Count == 2)
        {
            var (node, edge) = (segments[0], segments[1]);
            switch (edge)
            {
                case "messages" when isPost:
                    var isWhatsApp = request.Params["messaging_product"] is not null || request.Params["recipient"] is null;
                    return isWhatsApp
                        ? new GraphRoute(Operations.WhatsAppSend, Product.WhatsApp, node, request.Str("to"))
                        : new GraphRoute(Operations.InstagramDm, Product.Instagram, node, GraphRequest.Str(request.Params["recipient"]?["id"]));
                case "media" when isPost:
                    return new GraphRoute(Operations.InstagramCreateMedia, Product.Instagram, node, null);
                case "media_publish" when isPost:
                    return new GraphRoute(Operations.InstagramPublish, Product.Instagram, node, null);
                case "content_publishing_limit" when !isPost:
                    return new GraphRoute(Operations.InstagramPublishingLimit, Product.Instagram, node, null);
                case "insights" when !isPost:
                    // A media's insights are its account's; any other node is an IG user (its online_followers).
                    return new GraphRoute(Operations.InstagramInsights, Product.Instagram,
                        state.Media.TryGetValue(node, out var insightMedia) ? insightMedia.Account : node, null);
                case "access_token" when node == "oauth" && !isPost:
                    return new GraphRoute(Operations.TokenExchange, Product.Graph, null, null);
            }

            return new GraphRoute(Operations.Unsupported, Product.Graph, node, null);
        }

        if (segments.Count == 1)
        {
            var node = segments[0];
            if (!isPost && node is "access_token" or "refresh_access_token")
            {
                return new GraphRoute(Operations.TokenRefresh, Product.Instagram, null, null);
            }

            if (!isPost)
            {
                var owner = state.Containers.TryGetValue(node, out var container) ? container.Account
                    : state.Media.TryGetValue(node, out var media) ? media.Account
                    : node;
                return new GraphRoute(Operations.GetObject, Product.Instagram, owner, null);
            }

            return new GraphRoute(Operations.Unsupported, Product.Graph, node, null);
        }

        return new GraphRoute(Operations.Unsupported, Product.Graph, null, null);
    }

    private GraphResponse? Authenticate(GraphRequest request, GraphRoute route)
    {
        if (route.Operation is Operations.TokenExchange or Operations.TokenRefresh)
        {
            return null;
        }

        if (request.Token is null)
        {
            return GraphResponse.Fail(ErrorCatalog.Create(104, null, route.Product,
                "An access token is required to request this resource.",
                status: route.Product == Product.WhatsApp ? 401 : 400));
        }

        if (state.FindAccount(route.Account) is not { } account)
        {
            return null;
        }

        if (account.TokenError is { } tokenError)
        {
            return GraphResponse.Fail(ErrorCatalog.Create(tokenError.Code, tokenError.Subcode, route.Product, tokenError.Message));
        }

        return account.ExpiredTokens.ContainsKey(request.Token) || state.FindToken(request.Token)?.IsExpired(state.Clock.GetUtcNow()) == true
            ? GraphResponse.Fail(ErrorCatalog.Create(190, 463, route.Product))
            : null;
    }

    private GraphResponse Execute(GraphRequest request, GraphRoute route, DateTimeOffset now, long seq)
    {
        var account = route.Account!;
        switch (route.Operation)
        {
            case Operations.WhatsAppSend:
                return WhatsAppApi.Send(state, request, account, now, seq);
            case Operations.InstagramCreateMedia:
                return InstagramApi.CreateMedia(state, request, account, now);
            case Operations.InstagramPublish:
                return InstagramApi.Publish(state, request, account, now, seq);
            case Operations.InstagramPublishingLimit:
                return InstagramApi.PublishingLimit(state, request, account, now);
            case Operations.InstagramDm:
                return InstagramApi.SendDm(state, request, account, now, seq);
            case Operations.InstagramInsights:
                return InsightsApi.Get(state, request, request.Segments[0], now);
            case Operations.GetObject:
                return InstagramApi.GetObject(state, request, request.Segments[0], now);
            case Operations.TokenExchange:
            case Operations.TokenRefresh:
                return IssueToken(request, route, now);
            default:
                return GraphResponse.Fail(route.Account is { } node
                    ? HttpMethods.IsPost(request.Method) && request.Segments.Count == 1
                        ? ErrorCatalog.UnsupportedPost(node)
                        : ErrorCatalog.Create(100, null, Product.Graph, $"(#100) Unknown path components: /{string.Join('/', request.Segments.Skip(1))}")
                    : ErrorCatalog.Create(100, null, Product.Graph, "(#100) Unknown path components"));
        }
    }

    /// <summary>
    /// Long-lived token exchange and IG token refresh, as Meta answers them: any token works unless marked expired
    /// for some account or known (<see cref="IssuedToken"/>) and expired by the virtual clock; a known token is
    /// refreshed only once it is 24 hours old. Each token issued is known from then on, with its 60-day lifetime.
    /// </summary>
    private GraphResponse IssueToken(GraphRequest request, GraphRoute route, DateTimeOffset now)
    {
        var token = request.Str("fb_exchange_token") ?? request.Str("access_token") ?? request.Token;
        if (string.IsNullOrEmpty(token))
        {
            return GraphResponse.Fail(ErrorCatalog.InvalidParameter("The parameter access_token is required.", route.Product));
        }

        foreach (var account in state.Accounts.Values)
        {
            if (account.ExpiredTokens.ContainsKey(token))
            {
                return GraphResponse.Fail(ErrorCatalog.Create(190, 463, route.Product));
            }
        }

        if (state.FindToken(token) is { } known)
        {
            if (known.IsExpired(now))
            {
                return GraphResponse.Fail(ErrorCatalog.Create(190, 463, route.Product));
            }
            if (route.Operation == Operations.TokenRefresh && now - known.IssuedAt < IssuedToken.MinimumAgeToRefresh)
            {
                return GraphResponse.Fail(ErrorCatalog.InvalidParameter(
                    "(#100) The access token can be refreshed only once it is at least 24 hours old.", route.Product));
            }
        }

        var fresh = "EMU" + Convert.ToHexString(BitConverter.GetBytes(Random.Shared.NextInt64())) + Convert.ToHexString(BitConverter.GetBytes(state.NextRequestSeq()));
        var expiresIn = route.Operation == Operations.TokenExchange ? 5183944 : (int)IssuedToken.LongLived.TotalSeconds;
        state.Tokens[fresh] = new IssuedToken(fresh, now, now.AddSeconds(expiresIn));
        return GraphResponse.Ok(new JsonObject
        {
            ["access_token"] = fresh,
            ["token_type"] = "bearer",
            ["expires_in"] = expiresIn,
        });
    }

    private static GraphResponse FaultResponse(Fault fault, Product product)
    {
        if (fault.ResponseStatus is not null || fault.ResponseBody is not null)
        {
            return new GraphResponse
            {
                Status = fault.ResponseStatus ?? 500,
                RawBody = fault.ResponseBody switch
                {
                    null => "",
                    JsonValue value when value.TryGetValue<string>(out var text) => text,
                    var node => node.ToJsonString(GraphJson.Options),
                },
                RawContentType = fault.ResponseBody is JsonObject or JsonArray ? JsonContentType : "text/plain; charset=UTF-8",
                Headers = fault.ResponseHeaders,
                RetryAfterSeconds = fault.RetryAfterSeconds,
            };
        }

        ErrorCatalog.Preset? preset = null;
        if (fault.Preset is not null)
        {
            preset = ErrorCatalog.Presets[fault.Preset];
            if (preset.RawBody is not null)
            {
                return new GraphResponse
                {
                    Status = fault.Status ?? preset.Status ?? 500,
                    RawBody = preset.RawBody,
                    RawContentType = preset.RawContentType,
                    RetryAfterSeconds = fault.RetryAfterSeconds,
                };
            }
        }

        var code = fault.Code ?? preset!.Code;
        var subcode = fault.Subcode ?? preset?.Subcode;
        var error = ErrorCatalog.Create(code, subcode, product, fault.Message, fault.Status ?? preset?.Status,
            fault.IsTransient ?? preset?.IsTransient);
        var throttled = ErrorCatalog.IsRateLimit(code);
        return new GraphResponse
        {
            Status = error.Status,
            Error = error,
            Throttled = throttled,
            Headers = fault.ResponseHeaders,
            RetryAfterSeconds = fault.RetryAfterSeconds,
            EstimatedTimeToRegainAccessMinutes = fault.EstimatedTimeToRegainAccessMinutes ?? (throttled ? 5 : null),
        };
    }

    private async Task WriteAsync(HttpContext context, GraphResponse response, GraphRoute route, DateTimeOffset now)
    {
        var http = context.Response;
        http.StatusCode = response.Status;
        var traceId = TraceId();
        http.Headers["x-fb-trace-id"] = traceId;
        http.Headers["x-fb-rev"] = "1";
        WriteUsageHeaders(http, response, route, now);
        if (response.RetryAfterSeconds is { } retryAfter)
        {
            http.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        }

        if (response.Headers is not null)
        {
            foreach (var (name, value) in response.Headers)
            {
                http.Headers[name] = value;
            }
        }

        string body;
        if (response.RawBody is not null)
        {
            if (response.RawContentType is not null && !http.Headers.ContainsKey("Content-Type"))
            {
                http.ContentType = response.RawContentType;
            }

            body = response.RawBody;
        }
        else
        {
            http.ContentType = JsonContentType;
            body = response.Error is { } error
                ? error.ToJson(route.Product, traceId).ToJsonString(GraphJson.Options)
                : response.Json?.ToJsonString(GraphJson.Options) ?? "{}";
        }

        if (body.Length > 0)
        {
            await http.WriteAsync(body, Encoding.UTF8, context.RequestAborted);
        }
    }

    private void WriteUsageHeaders(HttpResponse http, GraphResponse response, GraphRoute route, DateTimeOffset now)
    {
        var account = state.FindAccount(route.Account);
        var appCalls = state.CountAppCall(now);
        int appPercent, accountPercent;
        if (response.Throttled)
        {
            appPercent = accountPercent = 100;
        }
        else if (account?.UsagePercent is { } fixedPercent)
        {
            appPercent = accountPercent = Math.Clamp(fixedPercent, 0, 100);
        }
        else
        {
            appPercent = Percent(appCalls, state.Options.AppCallCapacityPerHour);
            accountPercent = account is null ? 0 : Percent(account.CountCall(now), state.Options.AccountCallCapacityPerHour);
        }

        http.Headers["X-App-Usage"] = string.Create(CultureInfo.InvariantCulture,
            $"{{\"call_count\":{appPercent},\"total_cputime\":{appPercent},\"total_time\":{appPercent}}}");

        if (route.Account is { } id && account is not null)
        {
            var type = route.Product == Product.WhatsApp ? "whatsapp" : "instagram";
            var regain = response.Throttled ? response.EstimatedTimeToRegainAccessMinutes ?? 0 : 0;
            http.Headers["X-Business-Use-Case-Usage"] = string.Create(CultureInfo.InvariantCulture,
                $"{{\"{id}\":[{{\"type\":\"{type}\",\"call_count\":{accountPercent},\"total_cputime\":{accountPercent},\"total_time\":{accountPercent},\"estimated_time_to_regain_access\":{regain}}}]}}");
        }
    }

    private static int Percent(long calls, long capacity) =>
        (int)Math.Min(99, calls * 100 / Math.Max(1, capacity));

    private static string TraceId()
    {
        Span<byte> bytes = stackalloc byte[8];
        Random.Shared.NextBytes(bytes);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', 'A').Replace('/', 'B');
    }

    private async Task DelayAsync(Fault fault, HttpContext context)
    {
        if (fault.DelayMs <= 0)
        {
            return;
        }

        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(fault.DelayMs), state.Clock, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // the client gave up: nothing to answer
        }
    }

    private void Drop(HttpContext context, JournalEntry entry, string mode)
    {
        entry.Dropped = mode;
        entry.Status = 0;
        Log.Dropped(logger, mode, entry.Method, entry.Path);
        context.Abort();
    }
}
