using System.Text.Json;
using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>
/// What the page tests do as a signed-in user: sign up through the app's pages, and set up what a page does not
/// offer yet (workspaces, invitations) over the gateway's REST routes with the browser profile's own session cookie.
/// </summary>
internal static class StudioSession
{
    public const string Password = "correct horse battery staple";

    /// <summary>From the app's welcome page through the provider's sign-up form, back into the app, signed in.</summary>
    public static async Task<IPage> SignUpAsync(IBrowserContext context, string email)
    {
        var page = await context.NewPageAsync();
        await SignUpAsync(page, email);
        return page;
    }

    public static async Task SignUpAsync(IPage page, string email)
    {
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Create an account" }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(Password);
        await page.Locator("form button[type=submit], form input[type=submit]").ClickAsync();
        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync(new() { Timeout = 60_000 });
    }

    /// <summary>Connects a WhatsApp channel on the Channels page, and waits until the page lists it.</summary>
    public static async Task ConnectWhatsAppAsync(IPage page, string phoneNumberId, string recipient)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = "Channels" }).ClickAsync();
        await page.GetByLabel("Phone number id").FillAsync(phoneNumberId);
        await page.GetByLabel("Access token").FillAsync("EAAG-studio");
        await page.GetByLabel("Recipient (E.164)").FillAsync(recipient);
        await page.GetByRole(AriaRole.Button, new() { Name = "Connect" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.List, new() { Name = "Channels" })).ToContainTextAsync(phoneNumberId);
    }

    /// <summary>A POST to the gateway's REST API as the context's signed-in user (with the antiforgery header the gateway asks for).</summary>
    public static async Task<JsonElement> PostAsync(IBrowserContext context, string path, object body)
    {
        var response = await context.APIRequest.PostAsync(path, new()
        {
            Headers = new Dictionary<string, string> { ["X-CSRF"] = "1" },
            DataObject = body,
        });
        var text = await response.TextAsync();
        Assert.True(response.Ok, $"POST {path}: {response.Status} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A GET of the gateway's REST API as the context's signed-in user.</summary>
    public static async Task<JsonElement> GetAsync(IBrowserContext context, string path)
    {
        var response = await context.APIRequest.GetAsync(path);
        var text = await response.TextAsync();
        Assert.True(response.Ok, $"GET {path}: {response.Status} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
