using SocialSync.GraphApiEmulator.Control;
using SocialSync.GraphApiEmulator.State;

namespace SocialSync.GraphApiEmulator.Webhooks;

/// <summary>The control API of status webhooks, under <c>/__emu/webhooks</c>.</summary>
public static class WebhookEndpoints
{
    public static RouteGroupBuilder MapWebhookControl(this RouteGroupBuilder emu)
    {
        emu.MapPut("/webhooks", async (HttpRequest request, EmulatorState state) =>
        {
            var body = await Lenient.ReadBodyAsync(request);
            var url = Lenient.Str(body, "callbackUrl");
            if (url is not null && !Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                throw new ControlException($"callbackUrl must be an absolute URL, got \"{url}\"");
            }

            state.Webhooks.Configure(url, Lenient.Str(body, "appSecret"));
            return Results.Json(View(state.Webhooks), ControlEndpoints.Json);
        });
        emu.MapGet("/webhooks", (EmulatorState state) => Results.Json(View(state.Webhooks), ControlEndpoints.Json));

        emu.MapPost("/webhooks/rules", async (HttpRequest request, EmulatorState state) =>
        {
            var body = await Lenient.ReadBodyAsync(request);
            var match = Lenient.Obj(body, "match") ?? body;
            var statuses = Lenient.Strings(body, "statuses");
            if (statuses?.FirstOrDefault(s => s is not ("sent" or "delivered" or "read" or "failed")) is { } unknown)
            {
                throw new ControlException($"statuses may hold sent, delivered, read and failed, got \"{unknown}\"");
            }

            var copies = Lenient.Int(body, "copies") ?? (Lenient.Bool(body, "duplicate") == true ? 2 : 1);
            var id = state.Webhooks.AddRule(ruleId => new WebhookRule
            {
                Id = ruleId,
                Account = Lenient.Str(match, "account"),
                Recipient = Lenient.Str(match, "recipient"),
                Statuses = statuses,
                ErrorCode = Lenient.Int(body, "errorCode") ?? 131026,
                DelayMs = Math.Max(0, Lenient.Int(body, "delayMs") ?? 0),
                Copies = Math.Clamp(copies, 1, 10),
                OutOfOrder = Lenient.Bool(body, "outOfOrder") ?? false,
                BadSignature = Lenient.Bool(body, "badSignature") ?? false,
                Never = Lenient.Bool(body, "never") ?? false,
                Times = Math.Max(0, Lenient.Int(body, "times") ?? 0),
            });
            return Results.Json(new { id }, ControlEndpoints.Json);
        });
        emu.MapDelete("/webhooks/rules", (EmulatorState state) =>
        {
            state.Webhooks.ClearRules();
            return Results.Json(new { ok = true }, ControlEndpoints.Json);
        });

        emu.MapGet("/webhooks/deliveries", (string? wamid, string? status, EmulatorState state) =>
        {
            var data = state.Webhooks.Deliveries.Snapshot()
                .Where(d => (wamid is null || d.Wamid == wamid) && (status is null || d.Status == status))
                .ToList();
            return Results.Json(new { count = data.Count, data }, ControlEndpoints.Json);
        });

        // Delivers every pending webhook now, late ones included, in the order they were due.
        emu.MapPost("/webhooks/flush", async (EmulatorState state, WebhookSender sender, CancellationToken cancellationToken) =>
        {
            var due = state.Webhooks.TakeDue(all: true);
            var delivered = await sender.DeliverAsync(due, cancellationToken);
            return Results.Json(new { sent = due.Count, delivered }, ControlEndpoints.Json);
        });
        return emu;
    }

    private static object View(StatusWebhooks hooks) => new
    {
        callback_url = hooks.CallbackUrl,
        has_app_secret = hooks.HasAppSecret,
        statuses = hooks.Options.Statuses,
        pending = hooks.PendingCount,
        rules = hooks.Rules,
    };
}
