using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;

namespace SocialSync.Identity.Endpoints;

/// <summary>The provider's few pages: plain server-rendered HTML, every value encoded, every form with its antiforgery token.</summary>
internal static class HtmlPage
{
    public static IResult Render(HttpContext context, string title, string body, int statusCode = StatusCodes.Status200OK)
    {
        // Sign-in pages must not be framed (clickjacking) nor run scripts; they need no more than inline styles.
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        context.Response.Headers.XFrameOptions = "DENY";
        context.Response.Headers.CacheControl = "no-store";
        return Results.Content($$"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{Encode(title)}} · SocialSync</title>
            <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#a00}code{word-break:break-all}</style>
            </head>
            <body><main><h1>{{Encode(title)}}</h1>
            {{body}}
            </main></body></html>
            """, "text/html; charset=utf-8", statusCode: statusCode);
    }

    public static string Encode(string? value) => HtmlEncoder.Default.Encode(value ?? "");

    /// <summary>A POST form to <paramref name="action"/> with the antiforgery token and <paramref name="fields"/> (already HTML).</summary>
    public static string Form(HttpContext context, string action, string fields, string submit)
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return $"""
            <form method="post" action="{Encode(action)}">
            <input type="hidden" name="{Encode(tokens.FormFieldName)}" value="{Encode(tokens.RequestToken)}">
            {fields}
            <button type="submit">{Encode(submit)}</button>
            </form>
            """;
    }

    public static string Hidden(string name, string? value) => $"""<input type="hidden" name="{Encode(name)}" value="{Encode(value)}">""";

    public static string Error(string? message) => message is null ? "" : $"""<p class="error" role="alert">{Encode(message)}</p>""";

    /// <summary>
    /// <paramref name="returnUrl"/> when it stays on this site (a path, not "//host" nor "/\host"), else "/": a sign-in
    /// page must not be an open redirect.
    /// </summary>
    public static string LocalOrHome(string? returnUrl) =>
        returnUrl is ['/', ..] && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl
            : "/";
}
