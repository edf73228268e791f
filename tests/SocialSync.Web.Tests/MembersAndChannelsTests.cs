using Microsoft.Playwright;
using Npgsql;

namespace SocialSync.Web.Tests;

/// <summary>The Members page (a team's workspace, invitations by link, roles) and the Channels page's pause, resume and reconnect.</summary>
[Collection(StudioCollection.Name)]
public sealed class MembersAndChannelsTests(BrowserFixture fixture)
{
    [Fact]
    public async Task An_owner_invites_by_link_and_the_invitee_joins_then_gets_another_role_and_is_removed()
    {
        await using var ownerContext = await fixture.NewContextAsync();
        await using var inviteeContext = await fixture.NewContextAsync(width: 390, height: 844);
        var owner = await StudioSession.SignUpAsync(ownerContext, $"team-owner-{Guid.NewGuid():N}@example.test");
        var inviteeEmail = $"team-member-{Guid.NewGuid():N}@example.test";
        var invitee = await StudioSession.SignUpAsync(inviteeContext, inviteeEmail);
        var inviteeId = await UserIdAsync(inviteeContext);

        await owner.GetByRole(AriaRole.Link, new() { Name = "Members" }).ClickAsync();
        await owner.GetByLabel("Name").FillAsync("Bakery team");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create workspace" }).ClickAsync();
        await Assertions.Expect(owner.GetByRole(AriaRole.Status)).ToHaveTextAsync("Workspace Bakery team created.");
        await owner.GetByLabel("Role", new() { Exact = true }).SelectOptionAsync("Contributor");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Create invitation" }).ClickAsync();
        var link = await owner.GetByLabel("Invitation link").InputValueAsync();
        Assert.StartsWith(fixture.System.Gateway.HttpAddress.AbsoluteUri + "join?token=", link);
        await Assertions.Expect(owner.GetByRole(AriaRole.List, new() { Name = "Open invitations" })).ToContainTextAsync("contributor");

        // The invitee opens the link (by keyboard) and joins as what the owner chose.
        await invitee.GotoAsync(link);
        await invitee.GetByRole(AriaRole.Button, new() { Name = "Join workspace" }).FocusAsync();
        await invitee.Keyboard.PressAsync("Enter");
        await Assertions.Expect(invitee.GetByRole(AriaRole.Status)).ToHaveTextAsync("You joined the workspace as contributor.");
        // The link works once.
        await invitee.ReloadAsync();
        await invitee.GetByRole(AriaRole.Button, new() { Name = "Join workspace" }).ClickAsync();
        await Assertions.Expect(invitee.GetByRole(AriaRole.Alert)).ToHaveTextAsync("This invitation was used, revoked or has expired: ask for a new one.");

        // The owner knows the new member by the address they signed up with.
        await owner.ReloadAsync();
        var row = owner.Locator($"tr[data-user-id='{inviteeId}']");
        await Assertions.Expect(row.GetByRole(AriaRole.Cell).First).ToHaveTextAsync(inviteeEmail);
        await Assertions.Expect(row.GetByLabel($"Role of {inviteeEmail}")).ToHaveValueAsync("Contributor");
        await row.GetByLabel($"Role of {inviteeEmail}").SelectOptionAsync("Editor");
        await Assertions.Expect(owner.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{inviteeEmail} is now editor.");
        Assert.Equal("WORKSPACE_ROLE_EDITOR", await RoleInDatabaseAsync(inviteeId));

        await row.GetByRole(AriaRole.Button, new() { Name = $"Remove {inviteeEmail}" }).ClickAsync();
        await Assertions.Expect(owner.GetByRole(AriaRole.Status)).ToHaveTextAsync($"{inviteeEmail} was removed.");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        Assert.Null(await RoleInDatabaseAsync(inviteeId));
        await owner.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "members.png") });
    }

    [Fact]
    public async Task A_channel_is_paused_and_resumed_and_one_that_needs_reconnecting_is_reconnected_with_a_new_token()
    {
        await using var context = await fixture.NewContextAsync();
        var page = await StudioSession.SignUpAsync(context, $"channels-{Guid.NewGuid():N}@example.test");
        await StudioSession.ConnectWhatsAppAsync(page, "1065550009301", "+16505550301");
        var channel = page.Locator("li[data-channel-id]").Filter(new() { HasText = "1065550009301" });
        var channelId = await channel.GetAttributeAsync("data-channel-id");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause 1065550009301" }).ClickAsync();
        await Assertions.Expect(channel.Locator(".channel-state")).ToHaveTextAsync("paused");
        Assert.Equal("paused", await ChannelStateAsync(channelId!));
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume 1065550009301" }).ClickAsync();
        await Assertions.Expect(channel.Locator(".channel-state")).ToHaveTextAsync("active");
        Assert.Equal("active", await ChannelStateAsync(channelId!));

        // Meta refused the token: PublisherService reports it and PostsService sets this (here written directly).
        await using (var connection = new NpgsqlConnection(fixture.System.PostsConnectionString))
        {
            await connection.OpenAsync();
            await using var refuse = new NpgsqlCommand(
                "update channels set state = 'needs_reconnect', state_reason = 'Meta refused the access token (190).' where id = @id", connection);
            refuse.Parameters.AddWithValue("id", Guid.Parse(channelId!));
            await refuse.ExecuteNonQueryAsync();
        }
        await page.ReloadAsync();
        var banner = channel.GetByRole(AriaRole.Alert);
        await Assertions.Expect(banner).ToContainTextAsync("1065550009301 needs reconnecting: Meta refused the access token (190).");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "channel-reconnect.png") });
        await banner.GetByLabel("New access token for 1065550009301").FillAsync("EAAG-renewed");
        await banner.GetByRole(AriaRole.Button, new() { Name = "Reconnect" }).ClickAsync();
        await Assertions.Expect(channel.Locator(".channel-state")).ToHaveTextAsync("active");
        await Assertions.Expect(channel.GetByRole(AriaRole.Alert)).ToHaveCountAsync(0);
        Assert.Equal("active", await ChannelStateAsync(channelId!));
    }

    private static async Task<string> UserIdAsync(IBrowserContext context)
    {
        // The gateway asks its antiforgery header of /bff/user too (the app's own calls send it).
        var user = await context.APIRequest.GetAsync("/bff/user", new() { Headers = new Dictionary<string, string> { ["X-CSRF"] = "1" } });
        var text = await user.TextAsync();
        using var json = System.Text.Json.JsonDocument.Parse(text);
        return json.RootElement.TryGetProperty("id", out var id) ? id.GetString()! : throw new InvalidOperationException($"/bff/user: {user.Status} {text}");
    }

    private async Task<string?> RoleInDatabaseAsync(string userId) =>
        await ScalarAsync("select 'WORKSPACE_ROLE_' || upper(role) from workspace_members where user_id = @id and workspace_id <> @id", Guid.Parse(userId)) as string;

    private async Task<string> ChannelStateAsync(string channelId) =>
        (string)(await ScalarAsync("select state from channels where id = @id", Guid.Parse(channelId)))!;

    private async Task<object?> ScalarAsync(string sql, Guid id)
    {
        await using var connection = new NpgsqlConnection(fixture.System.PostsConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteScalarAsync();
    }
}
