using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using SocialSync.Identity.Clients;
using static SocialSync.Identity.Endpoints.HtmlPage;

namespace SocialSync.Identity.Endpoints;

/// <summary>A signed-in user's script clients: list, create (the secret shown once), delete.</summary>
public static class ScriptClientEndpoints
{
    public const string Path = "/account/script-clients";

    public sealed record CreateForm(string? Name);

    public sealed record DeleteForm(string? ClientId);

    public static void MapScriptClientEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Path).RequireAuthorization();
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync);
        group.MapPost("/delete", DeleteAsync);
    }

    private static async Task<IResult> ListAsync(HttpContext context, ScriptClients clients, UserManager<IdentityUser<Guid>> users) =>
        await PageAsync(context, clients, UserId(context, users), "", StatusCodes.Status200OK);

    private static async Task<IResult> CreateAsync(HttpContext context, [FromForm] CreateForm form, ScriptClients clients, UserManager<IdentityUser<Guid>> users)
    {
        var owner = UserId(context, users);
        var name = string.IsNullOrWhiteSpace(form.Name) ? "script" : form.Name.Trim();
        if (name.Length > ScriptClients.MaxNameLength)
        {
            return await PageAsync(context, clients, owner, Error($"A name has at most {ScriptClients.MaxNameLength} characters."), StatusCodes.Status400BadRequest);
        }
        var created = await clients.CreateAsync(owner, name, context.RequestAborted);
        if (created is null)
        {
            return await PageAsync(context, clients, owner, Error($"You already have {ScriptClients.MaxPerUser} script clients: delete one first."), StatusCodes.Status409Conflict);
        }
        var shown = $"""
            <section aria-label="New script client">
            <p>Copy the secret now: it is not shown again.</p>
            <dl><dt>Client id</dt><dd><code id="client-id">{Encode(created.ClientId)}</code></dd>
            <dt>Client secret</dt><dd><code id="client-secret">{Encode(created.ClientSecret)}</code></dd></dl>
            </section>
            """;
        return await PageAsync(context, clients, owner, shown, StatusCodes.Status201Created);
    }

    private static async Task<IResult> DeleteAsync(HttpContext context, [FromForm] DeleteForm form, ScriptClients clients, UserManager<IdentityUser<Guid>> users)
    {
        var deleted = form.ClientId is { Length: > 0 } clientId && await clients.DeleteAsync(UserId(context, users), clientId, context.RequestAborted);
        return deleted ? Results.LocalRedirect(Path) : Results.NotFound();
    }

    private static async Task<IResult> PageAsync(HttpContext context, ScriptClients clients, Guid owner, string above, int statusCode)
    {
        var rows = string.Concat((await clients.ListAsync(owner, context.RequestAborted)).Select(c =>
            $"<li>{Encode(c.Name)} <code>{Encode(c.ClientId)}</code> "
            + Form(context, Path + "/delete", Hidden("clientId", c.ClientId), "Delete") + "</li>"));
        var body = above
            + $"<p>A script client gets tokens that act as you (client credentials at <code>/connect/token</code>).</p><ul>{rows}</ul>"
            + Form(context, Path, """<label>Name <input name="name" maxlength="100"></label>""", "Create a script client");
        return Render(context, "Script clients", body, statusCode);
    }

    private static Guid UserId(HttpContext context, UserManager<IdentityUser<Guid>> users) =>
        Guid.Parse(users.GetUserId(context.User) ?? throw new InvalidOperationException("The group requires a signed-in user."));
}
