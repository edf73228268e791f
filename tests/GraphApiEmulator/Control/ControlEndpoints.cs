using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using SocialSync.GraphApiEmulator.Graph;
using SocialSync.GraphApiEmulator.Insights;
using SocialSync.GraphApiEmulator.MediaHosting;
using SocialSync.GraphApiEmulator.State;
using SocialSync.GraphApiEmulator.Webhooks;

namespace SocialSync.GraphApiEmulator.Control;

/// <summary>The control API under <c>/__emu</c>: faults, accounts, journal, effects, clock, reset.</summary>
public static class ControlEndpoints
{
    /// <summary>Control-API output: snake_case, nulls omitted. Input accepts camelCase or snake_case.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IEndpointRouteBuilder MapEmulatorControl(this IEndpointRouteBuilder app)
    {
        var emu = app.MapGroup("/__emu");
        emu.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (ControlException ex)
            {
                return Results.Json(new { error = ex.Message }, Json, statusCode: 400);
            }
        });

        emu.MapPost("/faults", AddFault);
        emu.MapGet("/faults", (EmulatorState state) => Results.Json(new { count = state.Faults.All.Count, data = state.Faults.All }, Json));
        emu.MapDelete("/faults", (EmulatorState state, ILoggerFactory logs) =>
        {
            state.Faults.Clear();
            Log.FaultsCleared(logs.CreateLogger(typeof(ControlEndpoints)));
            return Results.Json(new { ok = true }, Json);
        });
        emu.MapDelete("/faults/{id}", (string id, EmulatorState state) =>
            state.Faults.Remove(id) ? Results.Json(new { ok = true }, Json) : Results.Json(new { error = $"no fault {id}" }, Json, statusCode: 404));
        emu.MapGet("/presets", () => Results.Json(ErrorCatalog.Presets.ToDictionary(p => p.Key, p => new { code = p.Value.Code, subcode = p.Value.Subcode, status = p.Value.Status }), Json));

        emu.MapPut("/accounts/{account}", PutAccount);
        emu.MapGet("/accounts/{account}", (string account, EmulatorState state) =>
            state.FindAccount(account) is { } a ? Results.Json(Snapshot(state, a), Json) : Results.Json(new { error = $"no account {account}" }, Json, statusCode: 404));
        emu.MapGet("/accounts", (EmulatorState state) =>
            Results.Json(new { data = state.Accounts.Values.OrderBy(a => a.Id, StringComparer.Ordinal).Select(a => Snapshot(state, a)) }, Json));

        emu.MapGet("/containers", (string? account, EmulatorState state) =>
        {
            var now = state.Clock.GetUtcNow();
            var data = state.Containers.Values
                .Where(c => account is null || c.Account == account)
                .OrderBy(c => c.CreatedAt)
                .Select(c => new
                {
                    id = c.Id,
                    account = c.Account,
                    media_type = c.MediaType,
                    is_carousel_item = c.IsCarouselItem,
                    status_code = c.StatusCode(now),
                    created_at = c.CreatedAt,
                    published_media_id = c.PublishedMediaId,
                    children = c.Children.Count > 0 ? c.Children.Select(x => x.Id).ToArray() : null,
                })
                .ToList();
            return Results.Json(new { count = data.Count, data }, Json);
        });
        emu.MapPut("/containers/{id}", PutContainer);

        emu.MapGet("/requests", (string? account, string? since, string? operation, int? limit, EmulatorState state) =>
        {
            var (sinceSeq, sinceTime) = ParseSince(since);
            IEnumerable<JournalEntry> entries = state.Journal.Snapshot()
                .Where(e => (account is null || e.Account == account) && e.Seq > sinceSeq && e.Time >= sinceTime
                    && (operation is null || e.Operation == operation))
                .OrderBy(e => e.Seq);
            if (limit is > 0)
            {
                entries = entries.Take(limit.Value);
            }

            var data = entries.ToList();
            return Results.Json(new { count = data.Count, data }, Json);
        });

        emu.MapGet("/effects", (string? account, string? kind, string? since, EmulatorState state) =>
        {
            var (sinceSeq, sinceTime) = ParseSince(since);
            var data = state.Effects.Snapshot()
                .Where(e => (account is null || e.Account == account) && (kind is null || e.Kind == kind) && e.Seq > sinceSeq && e.Time >= sinceTime)
                .OrderBy(e => e.Seq)
                .ToList();
            return Results.Json(new { count = data.Count, data }, Json);
        });

        emu.MapPut("/tokens/{token}", PutToken);
        emu.MapGet("/tokens/{token}", (string token, EmulatorState state) =>
            state.FindToken(token) is { } issued ? Results.Json(issued.View(state.Clock.GetUtcNow()), Json) : Results.NotFound());
        emu.MapGet("/tokens", (EmulatorState state) =>
        {
            var now = state.Clock.GetUtcNow();
            var data = state.Tokens.Values.OrderBy(t => t.IssuedAt).Select(t => t.View(now)).ToList();
            return Results.Json(new { count = data.Count, data }, Json);
        });

        emu.MapInsightsControl();
        emu.MapWebhookControl();
        emu.MapEmulatorMedia();
        emu.MapPost("/clock", AdvanceClock);
        emu.MapGet("/clock", (EmulatorState state) => Results.Json(ClockView(state), Json));
        emu.MapGet("/stats", (EmulatorState state) => Results.Json(state.Stats(), Json));
        emu.MapPost("/reset", (EmulatorState state, ILoggerFactory logs) =>
        {
            state.Reset();
            Log.StateReset(logs.CreateLogger(typeof(ControlEndpoints)));
            return Results.Json(new { ok = true }, Json);
        });
        return app;
    }

    private static async Task<IResult> AddFault(HttpRequest request, EmulatorState state, ILoggerFactory logs)
    {
        var body = await Lenient.ReadBodyAsync(request);
        var match = Lenient.Obj(body, "match") ?? body;
        var response = Lenient.Obj(body, "response");
        var preset = Lenient.Str(body, "preset");
        if (preset is not null && !ErrorCatalog.Presets.ContainsKey(preset))
        {
            throw new ControlException($"unknown preset '{preset}'; known: {string.Join(", ", ErrorCatalog.Presets.Keys.Order(StringComparer.Ordinal))}");
        }

        var pathRegex = Lenient.Str(match, "pathRegex");
        Regex? pattern = null;
        if (pathRegex is not null)
        {
            try
            {
                pattern = new Regex(pathRegex, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException ex)
            {
                throw new ControlException($"invalid pathRegex: {ex.Message}");
            }
        }

        var drop = Lenient.Str(body, "drop") switch
        {
            null or "" or "none" => DropMode.None,
            "before" => DropMode.Before,
            "after_commit" or "afterCommit" or "after-commit" => DropMode.AfterCommit,
            var other => throw new ControlException($"drop must be \"before\" or \"after_commit\", got \"{other}\""),
        };

        Dictionary<string, string>? headers = null;
        if (Lenient.Obj(response, "headers") is { } headerObject)
        {
            headers = headerObject.ToDictionary(h => h.Key, h => h.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : h.Value?.ToJsonString() ?? "", StringComparer.OrdinalIgnoreCase);
        }

        var times = Lenient.Int(body, "times") ?? 1;
        if (times < 0)
        {
            throw new ControlException("times must be >= 0 (0 = forever)");
        }

        var fault = new Fault
        {
            Id = state.NextFaultId(),
            Method = Lenient.Str(match, "method"),
            PathRegex = pathRegex,
            PathPattern = pattern,
            Account = Lenient.Str(match, "account"),
            Recipient = Lenient.Str(match, "recipient"),
            ResponseStatus = Lenient.Int(response, "status"),
            ResponseBody = Lenient.Get(response, "body")?.DeepClone(),
            ResponseHeaders = headers,
            Preset = preset,
            Code = Lenient.Int(body, "code"),
            Subcode = Lenient.Int(body, "subcode") ?? Lenient.Int(body, "errorSubcode"),
            Status = Lenient.Int(body, "status"),
            Message = Lenient.Str(body, "message"),
            IsTransient = Lenient.Bool(body, "isTransient"),
            RetryAfterSeconds = Lenient.Int(body, "retryAfterSeconds"),
            EstimatedTimeToRegainAccessMinutes = Lenient.Int(body, "estimatedTimeToRegainAccessMinutes"),
            Times = times,
            DelayMs = Lenient.Int(body, "delayMs") ?? 0,
            Drop = drop,
        };

        if (!fault.ReplacesResponse && fault.Drop == DropMode.None && fault.DelayMs <= 0)
        {
            throw new ControlException("a fault needs one of: response, preset, code, drop, delayMs");
        }

        state.Faults.Add(fault);
        Log.FaultAdded(logs.CreateLogger(typeof(ControlEndpoints)), fault.Id, fault.Times);
        return Results.Json(new { id = fault.Id }, Json);
    }

    /// <summary>
    /// Gives a token a known lifetime: issued ageSeconds ago (default 0), expiring expiresInSeconds from now (default:
    /// 60 days after it was issued), or at issuedAt / expiresAt (ISO-8601 virtual times).
    /// </summary>
    private static async Task<IResult> PutToken(string token, HttpRequest request, EmulatorState state)
    {
        var body = await Lenient.ReadBodyAsync(request);
        var now = state.Clock.GetUtcNow();
        var issuedAt = Time(body, "issuedAt") ?? now.AddSeconds(-(Lenient.Double(body, "ageSeconds") ?? 0));
        var expiresAt = Time(body, "expiresAt")
            ?? (Lenient.Double(body, "expiresInSeconds") is { } seconds ? now.AddSeconds(seconds) : issuedAt + IssuedToken.LongLived);
        var issued = new IssuedToken(token, issuedAt, expiresAt);
        state.Tokens[token] = issued;
        return Results.Json(issued.View(now), Json);
    }

    private static DateTimeOffset? Time(JsonObject body, string name) => Lenient.Str(body, name) switch
    {
        null => null,
        var text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) => time,
        var text => throw new ControlException($"{name} must be an ISO-8601 time, got \"{text}\""),
    };

    private static async Task<IResult> PutAccount(string account, HttpRequest request, EmulatorState state, ILoggerFactory logs)
    {
        var body = await Lenient.ReadBodyAsync(request);
        var a = state.Account(account);
        var now = state.Clock.GetUtcNow();
        if (Lenient.TryGet(body, "quotaTotal", out _))
        {
            a.QuotaTotal = Lenient.Int(body, "quotaTotal");
        }

        if (Lenient.TryGet(body, "processingDelayMs", out _))
        {
            a.ProcessingDelayMs = Lenient.Int(body, "processingDelayMs");
        }

        if (Lenient.TryGet(body, "imageProcessingDelayMs", out _))
        {
            a.ImageProcessingDelayMs = Lenient.Int(body, "imageProcessingDelayMs");
        }

        if (Lenient.TryGet(body, "containerErrorSubcode", out _))
        {
            a.ContainerErrorSubcode = Lenient.Int(body, "containerErrorSubcode");
        }

        if (Lenient.TryGet(body, "usagePercent", out _))
        {
            a.UsagePercent = Lenient.Int(body, "usagePercent");
        }

        if (Lenient.TryGet(body, "timeZone", out _))
        {
            var zone = Lenient.Str(body, "timeZone");
            if (zone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            {
                throw new ControlException($"unknown time zone '{zone}'");
            }
            a.TimeZone = zone;
        }

        if (Lenient.Bool(body, "republishReturnsSameId") is { } sameId)
        {
            a.RepublishReturnsSameId = sameId;
        }

        if (Lenient.TryGet(body, "republishError", out _))
        {
            a.RepublishError = Lenient.Obj(body, "republishError") is { } spec
                ? new ErrorSpec(Lenient.Int(spec, "code") ?? 100, Lenient.Int(spec, "subcode"), Lenient.Int(spec, "status"), Lenient.Str(spec, "message"))
                : null;
        }

        if (Lenient.TryGet(body, "tokenError", out _))
        {
            a.TokenError = Lenient.Obj(body, "tokenError") is { } spec
                ? new TokenErrorSpec(Lenient.Int(spec, "code") ?? 190, Lenient.Int(spec, "subcode"), Lenient.Str(spec, "message"))
                : null;
        }

        if (Lenient.Strings(body, "expiredTokens") is { } expired)
        {
            a.ExpiredTokens.Clear();
            foreach (var token in expired)
            {
                a.ExpiredTokens[token] = 0;
            }
        }

        if (Lenient.Strings(body, "dmWindowOpenFor") is { } open)
        {
            foreach (var recipient in open)
            {
                a.DmWindows[recipient] = now;
            }
        }

        if (Lenient.Strings(body, "dmWindowClosedFor") is { } closed)
        {
            foreach (var recipient in closed)
            {
                a.DmWindows.TryRemove(recipient, out _);
            }
        }

        Log.AccountConfigured(logs.CreateLogger(typeof(ControlEndpoints)), account);
        return Results.Json(Snapshot(state, a), Json);
    }

    private static async Task<IResult> PutContainer(string id, HttpRequest request, EmulatorState state)
    {
        if (!state.Containers.TryGetValue(id, out var container))
        {
            return Results.Json(new { error = $"no container {id}" }, Json, statusCode: 404);
        }

        var body = await Lenient.ReadBodyAsync(request);
        var now = state.Clock.GetUtcNow();
        lock (container.Sync)
        {
            switch (Lenient.Str(body, "statusCode") ?? Lenient.Str(body, "status"))
            {
                case "FINISHED":
                    container.ReadyAt = now;
                    container.ErrorSubcode = null;
                    break;
                case "IN_PROGRESS":
                    container.ReadyAt = null;
                    break;
                case "ERROR":
                    container.ReadyAt = now;
                    container.ErrorSubcode = Lenient.Int(body, "errorSubcode") ?? 2207001;
                    break;
                case var other:
                    throw new ControlException($"statusCode must be FINISHED, IN_PROGRESS or ERROR, got \"{other}\"");
            }
        }

        return Results.Json(new { id, status_code = container.StatusCode(now) }, Json);
    }

    private static async Task<IResult> AdvanceClock(HttpRequest request, EmulatorState state, ILoggerFactory logs)
    {
        var body = await Lenient.ReadBodyAsync(request);
        var seconds = Lenient.Double(body, "advanceSeconds");
        if (seconds is null && Lenient.Str(body, "advance") is { } text)
        {
            seconds = ParseDuration(text).TotalSeconds;
        }

        if (seconds is null or < 0)
        {
            throw new ControlException("advanceSeconds must be a number >= 0 (or advance: \"24h\")");
        }

        var now = state.Clock.Advance(TimeSpan.FromSeconds(seconds.Value));
        Log.ClockAdvanced(logs.CreateLogger(typeof(ControlEndpoints)), seconds.Value, now);
        return Results.Json(ClockView(state), Json);
    }

    private static object ClockView(EmulatorState state) => new
    {
        now = state.Clock.GetUtcNow(),
        offset_seconds = state.Clock.Offset.TotalSeconds,
    };

    /// <summary><c>since</c> is a seq (entries with a greater seq) or an ISO-8601 time (entries at or after it).</summary>
    private static (long Seq, DateTimeOffset Time) ParseSince(string? since)
    {
        if (string.IsNullOrEmpty(since))
        {
            return (0, DateTimeOffset.MinValue);
        }

        if (long.TryParse(since, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq))
        {
            return (seq, DateTimeOffset.MinValue);
        }

        return DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? (0, time)
            : throw new ControlException($"since must be a seq number or an ISO-8601 time, got \"{since}\"");
    }

    private static TimeSpan ParseDuration(string text)
    {
        text = text.Trim();
        if (text.Length >= 2 && double.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
        {
            switch (char.ToLowerInvariant(text[^1]))
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw new ControlException($"cannot parse duration \"{text}\" (use 30s, 15m, 24h, 1d or hh:mm:ss)");
    }

    private static object Snapshot(EmulatorState state, AccountState a)
    {
        var now = state.Clock.GetUtcNow();
        return new
        {
            id = a.Id,
            quota_total = a.QuotaTotal ?? state.Options.DefaultQuotaTotal,
            quota_usage = a.QuotaUsage(now, null),
            processing_delay_ms = a.ProcessingDelayMs ?? state.Options.VideoProcessingDelayMs,
            image_processing_delay_ms = a.ImageProcessingDelayMs ?? state.Options.ImageProcessingDelayMs,
            container_error_subcode = a.ContainerErrorSubcode,
            republish_returns_same_id = a.RepublishReturnsSameId,
            republish_error = a.RepublishError,
            token_error = a.TokenError,
            expired_tokens = a.ExpiredTokens.Keys.Order(StringComparer.Ordinal).ToArray(),
            dm_windows = a.DmWindows.ToDictionary(w => w.Key, w => new
            {
                opened_at = w.Value,
                open = a.IsDmWindowOpen(w.Key, now, InstagramApi.DmWindow),
            }),
            usage_percent = a.UsagePercent,
            time_zone = a.TimeZone ?? "UTC",
        };
    }
}
