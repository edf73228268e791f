using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using static SocialSync.Identity.Endpoints.HtmlPage;

namespace SocialSync.Identity.Endpoints;

/// <summary>Sign-up, sign-in and sign-out with an email and a password (ASP.NET Core Identity: hashing, lockout).</summary>
public static partial class AccountEndpoints
{
    public const string SignInPath = "/account/signin";
    public const string SignUpPath = "/account/signup";
    public const string SignOutPath = "/account/signout";

    public sealed record AccountForm(string? Email, string? Password, string? ReturnUrl);

    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", Home);
        app.MapGet(SignUpPath, (HttpContext context, string? returnUrl) => SignUpPage(context, returnUrl, null));
        app.MapPost(SignUpPath, SignUpAsync);
        app.MapGet(SignInPath, (HttpContext context, string? returnUrl) => SignInPage(context, returnUrl, null));
        app.MapPost(SignInPath, SignInAsync);
        app.MapGet(SignOutPath, (HttpContext context) => Render(context, "Sign out", Form(context, SignOutPath, "", "Sign out")));
        app.MapPost(SignOutPath, SignOutAsync);
    }

    private static IResult Home(HttpContext context)
    {
        var email = context.User.Identity?.IsAuthenticated == true ? context.User.Identity.Name : null;
        var body = email is null
            ? $"""<p><a href="{SignInPath}">Sign in</a> or <a href="{SignUpPath}">create an account</a>.</p>"""
            : $"""<p>Signed in as {Encode(email)}.</p><p><a href="{ScriptClientEndpoints.Path}">Script clients</a> · <a href="{SignOutPath}">Sign out</a></p>""";
        return Render(context, "SocialSync account", body);
    }

    private static IResult SignUpPage(HttpContext context, string? returnUrl, string? error, int statusCode = StatusCodes.Status200OK) =>
        Render(context, "Create an account", Error(error) + Form(context, SignUpPath, CredentialFields(returnUrl, "new-password"), "Create account")
            + $"""<p>Already have one? <a href="{SignInPath}?returnUrl={Uri.EscapeDataString(returnUrl ?? "/")}">Sign in</a>.</p>""", statusCode);

    private static IResult SignInPage(HttpContext context, string? returnUrl, string? error, int statusCode = StatusCodes.Status200OK) =>
        Render(context, "Sign in", Error(error) + Form(context, SignInPath, CredentialFields(returnUrl, "current-password"), "Sign in")
            + $"""<p>New here? <a href="{SignUpPath}?returnUrl={Uri.EscapeDataString(returnUrl ?? "/")}">Create an account</a>.</p>""", statusCode);

    private static string CredentialFields(string? returnUrl, string passwordAutocomplete) =>
        Hidden("returnUrl", LocalOrHome(returnUrl)) + $"""
            <label>Email <input type="email" name="email" autocomplete="email" required></label>
            <label>Password <input type="password" name="password" autocomplete="{passwordAutocomplete}" required></label>
            """;

    private static async Task<IResult> SignUpAsync(HttpContext context, [FromForm] AccountForm form, UserManager<IdentityUser<Guid>> users,
        SignInManager<IdentityUser<Guid>> signIn, ILoggerFactory logs)
    {
        var email = form.Email?.Trim() ?? "";
        var user = new IdentityUser<Guid> { UserName = email, Email = email };
        var created = await users.CreateAsync(user, form.Password ?? "");
        if (!created.Succeeded)
        {
            return SignUpPage(context, form.ReturnUrl, string.Join(" ", created.Errors.Select(e => e.Description)), StatusCodes.Status400BadRequest);
        }
        LogSignedUp(logs.CreateLogger(typeof(AccountEndpoints)), user.Id);
        await signIn.SignInAsync(user, isPersistent: false);
        return Results.LocalRedirect(LocalOrHome(form.ReturnUrl));
    }

    private static async Task<IResult> SignInAsync(HttpContext context, [FromForm] AccountForm form, UserManager<IdentityUser<Guid>> users,
        SignInManager<IdentityUser<Guid>> signIn, ILoggerFactory logs)
    {
        var user = string.IsNullOrWhiteSpace(form.Email) ? null : await users.FindByEmailAsync(form.Email.Trim());
        // An unknown email and a wrong password read the same, so the page does not tell which accounts exist.
        var result = user is null
            ? Microsoft.AspNetCore.Identity.SignInResult.Failed
            : await signIn.PasswordSignInAsync(user, form.Password ?? "", isPersistent: false, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            return Results.LocalRedirect(LocalOrHome(form.ReturnUrl));
        }
        if (result.IsLockedOut)
        {
            LogLockedOut(logs.CreateLogger(typeof(AccountEndpoints)), user!.Id);
            return SignInPage(context, form.ReturnUrl, "This account is locked after too many failed sign-ins. Try again later.", StatusCodes.Status423Locked);
        }
        return SignInPage(context, form.ReturnUrl, "Wrong email or password.", StatusCodes.Status400BadRequest);
    }

    private static async Task<IResult> SignOutAsync([FromForm] string? returnUrl, SignInManager<IdentityUser<Guid>> signIn)
    {
        await signIn.SignOutAsync();
        return Results.LocalRedirect(LocalOrHome(returnUrl));
    }

    [LoggerMessage(301, LogLevel.Information, "User {UserId} signed up")]
    private static partial void LogSignedUp(ILogger logger, Guid userId);

    [LoggerMessage(302, LogLevel.Warning, "User {UserId} is locked out after repeated failed sign-ins")]
    private static partial void LogLockedOut(ILogger logger, Guid userId);
}
