using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>The Approvals page: a contributor's post waits in a shared workspace until an editor approves it.</summary>
[Collection(StudioCollection.Name)]
public sealed class ApprovalsPageTests(BrowserFixture fixture)
{
    [Fact]
    public async Task A_contributors_post_waits_until_an_editor_approves_it_on_the_approvals_page()
    {
        // The owner reviews on a phone-sized screen; the contributor writes on a desktop.
        await using var ownerContext = await fixture.NewContextAsync(width: 390, height: 844);
        await using var contributorContext = await fixture.NewContextAsync();
        var ownerPage = await StudioSession.SignUpAsync(ownerContext, $"owner-{Guid.NewGuid():N}@example.test");
        var contributorPage = await StudioSession.SignUpAsync(contributorContext, $"contributor-{Guid.NewGuid():N}@example.test");

        var workspaceId = (await StudioSession.PostAsync(ownerContext, "/api/workspaces", new { name = "Bakery" })).GetProperty("id").GetString();
        await StudioSession.PostAsync(ownerContext, "/api/channels", new
        {
            workspace_id = workspaceId,
            platform = "whatsapp",
            account_id = "1065550009101",
            access_token = "EAAG-approvals",
            settings = new { recipients = new[] { "+16505550101" } },
        });
        var token = (await StudioSession.PostAsync(ownerContext, $"/api/workspaces/{workspaceId}/invitations", new { role = "CONTRIBUTOR" }))
            .GetProperty("token").GetString();
        await StudioSession.PostAsync(contributorContext, "/api/invitations:accept", new { token });

        // The contributor composes a post in the workspace's channel for tomorrow: it waits for approval.
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var tomorrow = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, newYork).Date.AddDays(1);
        await contributorPage.GetByRole(AriaRole.Link, new() { Name = "New post" }).ClickAsync();
        await contributorPage.GetByLabel("Text").FillAsync("Croissants for the team, pending review");
        await contributorPage.GetByLabel(new Regex("^Publish at")).FillAsync($"{tomorrow:yyyy-MM-dd}T10:30");
        await contributorPage.GetByRole(AriaRole.Button, new() { Name = "Schedule" }).ClickAsync();
        await contributorPage.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync();
        var day = await DayOnCalendarAsync(contributorPage, tomorrow);
        await Assertions.Expect(day).ToContainTextAsync("Croissants for the team");
        await Assertions.Expect(day).ToContainTextAsync("pending_approval");

        // The contributor cannot approve it themselves: their Approvals page lists it without the buttons.
        await contributorPage.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
        var contributorList = contributorPage.GetByRole(AriaRole.List, new() { Name = "Posts pending approval" });
        await Assertions.Expect(contributorList).ToContainTextAsync("Your post");
        await Assertions.Expect(contributorPage.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Approve") })).ToHaveCountAsync(0);

        // The owner opens Approvals (keyboard: the link, then the button), approves, and the post leaves the list.
        await ownerPage.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
        var pending = ownerPage.GetByRole(AriaRole.List, new() { Name = "Posts pending approval" });
        await Assertions.Expect(pending).ToContainTextAsync("Croissants for the team, pending review");
        await Assertions.Expect(ownerPage.GetByLabel("Reason for rejecting")).ToBeVisibleAsync();
        await ownerPage.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "approvals.png") });
        var approve = ownerPage.GetByRole(AriaRole.Button, new() { Name = "Approve: Croissants for the team" });
        await approve.FocusAsync();
        await ownerPage.Keyboard.PressAsync("Enter");
        await Assertions.Expect(ownerPage.GetByRole(AriaRole.Status)).ToContainTextAsync("Approved: Croissants for the team");
        await Assertions.Expect(ownerPage.GetByText("Nothing is waiting for approval.")).ToBeVisibleAsync();

        // Back on the contributor's calendar, the post is queued.
        await contributorPage.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        day = await DayOnCalendarAsync(contributorPage, tomorrow);
        await Assertions.Expect(day).ToContainTextAsync("Croissants for the team");
        await Assertions.Expect(day).ToContainTextAsync("queued");
    }

    [Fact]
    public async Task An_editor_rejects_a_pending_post_with_a_comment_that_reaches_its_author()
    {
        await using var ownerContext = await fixture.NewContextAsync();
        await using var contributorContext = await fixture.NewContextAsync();
        var ownerPage = await StudioSession.SignUpAsync(ownerContext, $"owner-{Guid.NewGuid():N}@example.test");
        await StudioSession.SignUpAsync(contributorContext, $"contributor-{Guid.NewGuid():N}@example.test");

        var workspaceId = (await StudioSession.PostAsync(ownerContext, "/api/workspaces", new { name = "Florist" })).GetProperty("id").GetString();
        var channelId = (await StudioSession.PostAsync(ownerContext, "/api/channels", new
        {
            workspace_id = workspaceId,
            platform = "whatsapp",
            account_id = "1065550009102",
            access_token = "EAAG-approvals",
            settings = new { recipients = new[] { "+16505550102" } },
        })).GetProperty("id").GetString();
        var token = (await StudioSession.PostAsync(ownerContext, $"/api/workspaces/{workspaceId}/invitations", new { role = "CONTRIBUTOR" }))
            .GetProperty("token").GetString();
        await StudioSession.PostAsync(contributorContext, "/api/invitations:accept", new { token });
        var postId = (await StudioSession.PostAsync(contributorContext, "/api/posts", new
        {
            channel_id = channelId,
            content = new { text = "Tulips at half price" },
            publish_at = DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-ddTHH:mm:ssZ"),
            request_id = Guid.NewGuid().ToString(),
        })).GetProperty("id").GetString();

        await ownerPage.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
        await Assertions.Expect(ownerPage.GetByRole(AriaRole.List, new() { Name = "Posts pending approval" })).ToContainTextAsync("Tulips at half price");
        await ownerPage.GetByLabel("Reason for rejecting").FillAsync("Prices need the manager's sign-off");
        await ownerPage.GetByRole(AriaRole.Button, new() { Name = "Reject: Tulips at half price" }).ClickAsync();
        await Assertions.Expect(ownerPage.GetByRole(AriaRole.Status)).ToContainTextAsync("Rejected: Tulips at half price");

        var post = await contributorContext.APIRequest.GetAsync($"/api/posts/{postId}");
        var json = System.Text.Json.JsonDocument.Parse(await post.TextAsync()).RootElement;
        Assert.Equal("REJECTED", json.GetProperty("status").GetString());
        Assert.Equal("Prices need the manager's sign-off", json.GetProperty("reviewComment").GetString());
    }

    /// <summary>The calendar's day region, a week ahead when the day falls in the next week.</summary>
    private static async Task<ILocator> DayOnCalendarAsync(IPage page, DateTime day)
    {
        await page.GetByRole(AriaRole.Heading, new() { Name = "Calendar" }).WaitForAsync();
        if (day.DayOfWeek == DayOfWeek.Monday)
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Next week" }).ClickAsync();
        }
        return page.GetByRole(AriaRole.Region, new() { Name = $"{day:dddd d MMMM}" });
    }
}
