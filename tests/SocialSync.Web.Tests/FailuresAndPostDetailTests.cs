using Microsoft.Playwright;

namespace SocialSync.Web.Tests;

/// <summary>
/// The Failures, Post detail and Statistics pages (issue 19): a failed post says why in words and can be retried, an
/// unconfirmed one cannot be retried from the list; a published post's detail shows its runs, history, WhatsApp
/// deliveries and trace link; the statistics count what the user published, over chosen days and workspaces.
/// </summary>
[Collection(StudioCollection.Name)]
public sealed class FailuresAndPostDetailTests(BrowserFixture fixture)
{
    private const string Recipient = "+16505550142";

    [Fact]
    public async Task A_failed_post_shows_its_reason_in_words_and_once_retried_publishes_on_the_emulator()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, account, channelId) = await SignedUpWithChannelAsync(context, "failures");
        // Meta refuses the first send for good (an unknown code is permanent): no automatic retry.
        await fixture.System.Emulator!.AddFaultAsync(new { match = new { method = "POST", account }, code = 131026, times = 1 });
        var post = await PostSoonAsync(context, channelId, "Bread is back tomorrow");

        await page.GetByRole(AriaRole.Link, new() { Name = "Failures" }).ClickAsync();
        var failed = page.GetByRole(AriaRole.Article, new() { Name = "failed post" });
        await Assertions.Expect(failed).ToContainTextAsync("Bread is back tomorrow", new() { Timeout = 120_000 });
        await Assertions.Expect(failed.GetByRole(AriaRole.Heading, new() { Name = "The platform refused the post" })).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "failures.png") });

        await failed.GetByRole(AriaRole.Button, new() { Name = "Retry now: Bread is back tomorrow" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Queued again");
        await Assertions.Expect(page.GetByText("Nothing failed.")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        await WaitForStatusAsync(context, post, "PUBLISHED");
        var sent = Assert.Single(await fixture.System.Emulator.EffectsAsync(account));
        Assert.Equal("Bread is back tomorrow", sent.GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_unconfirmed_post_offers_no_retry_and_says_what_to_check()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, account, channelId) = await SignedUpWithChannelAsync(context, "unconfirmed");
        // The send goes out, its answer is lost, and no status webhook tells: the post may or may not be in the chat.
        await fixture.System.Emulator!.AddFaultAsync(new { match = new { method = "POST", account }, drop = "after_commit", times = 0 });
        await fixture.System.Emulator.AddWebhookRuleAsync(new { match = new { account }, never = true, times = 0 });
        await PostSoonAsync(context, channelId, "Did this reach anyone?");

        await page.GetByRole(AriaRole.Link, new() { Name = "Failures" }).ClickAsync();
        var unconfirmed = page.GetByRole(AriaRole.Article, new() { Name = "unconfirmed post" });
        await Assertions.Expect(unconfirmed).ToContainTextAsync("Did this reach anyone?", new() { Timeout = 120_000 });

        await Assertions.Expect(unconfirmed.GetByRole(AriaRole.Heading, new() { Name = "It may have gone out" })).ToBeVisibleAsync();
        await Assertions.Expect(unconfirmed).ToContainTextAsync("Look at the WhatsApp chat or the Instagram account first");
        await Assertions.Expect(unconfirmed.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "failures-unconfirmed.png") });
    }

    [Fact]
    public async Task A_published_posts_detail_shows_its_runs_history_deliveries_and_trace_link()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, _, channelId) = await SignedUpWithChannelAsync(context, "detail");
        var post = await PostSoonAsync(context, channelId, "Croissants at seven");
        await WaitForStatusAsync(context, post.Id, "PUBLISHED");
        // Meta's statuses arrive after the send, through PublisherService's webhook: wait until the last is recorded.
        await WaitUntilAsync(async () =>
            (await StudioSession.GetAsync(context, $"/api/posts/{post.Id}/deliveries")).ToString().Contains("READ"));

        await page.GetByRole(AriaRole.Link, new() { Name = "Calendar" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = $"Open the post at {post.LocalTime:HH:mm}" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Post", Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".status-word")).ToHaveTextAsync("published");
        var runs = page.GetByRole(AriaRole.Table, new() { Name = "Runs" });
        await Assertions.Expect(runs.GetByRole(AriaRole.Row)).ToHaveCountAsync(2);
        await Assertions.Expect(runs).ToContainTextAsync("success");
        var history = page.GetByRole(AriaRole.List, new() { Name = "History" });
        await Assertions.Expect(history).ToContainTextAsync("created");
        await Assertions.Expect(history).ToContainTextAsync("published");
        var delivery = page.GetByRole(AriaRole.Table, new() { Name = "Delivery" });
        await Assertions.Expect(delivery.GetByRole(AriaRole.Row, new() { Name = Recipient })).ToContainTextAsync("read");
        var trace = page.GetByRole(AriaRole.Link, new() { Name = "Open its trace in the Aspire dashboard" });
        await Assertions.Expect(trace).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex(
            $"^{System.Text.RegularExpressions.Regex.Escape(BrowserFixture.DashboardUrl)}/traces/detail/[0-9a-f]{{32}}$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Engagement" })).ToBeVisibleAsync();
        // WhatsApp's engagement is its delivery: the one message sent was read.
        var engagement = page.GetByRole(AriaRole.Table, new() { Name = "Engagement figures" });
        await Assertions.Expect(engagement.GetByRole(AriaRole.Row, new() { Name = "read", Exact = true })).ToContainTextAsync("1");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "post-detail.png"), FullPage = true });
    }

    [Fact]
    public async Task Statistics_show_the_success_rate_of_the_posts_the_user_published()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, account, channelId) = await SignedUpWithChannelAsync(context, "statistics");
        // Of two posts, Meta refuses the first for good and accepts the second: half were published.
        await fixture.System.Emulator!.AddFaultAsync(new { match = new { method = "POST", account }, code = 131026, times = 1 });
        var refused = await PostSoonAsync(context, channelId, "First batch");
        await WaitForStatusAsync(context, refused.Id, "FAILED");
        var published = await PostSoonAsync(context, channelId, "Second batch");
        await WaitForStatusAsync(context, published.Id, "PUBLISHED");

        await page.GetByRole(AriaRole.Link, new() { Name = "Statistics" }).ClickAsync();

        var figures = page.GetByRole(AriaRole.Definition).First;
        await Assertions.Expect(figures).ToHaveTextAsync("50%");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "Success rate per platform, last 24 hours" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = "Success rate per platform, last 24 hours" }))
            .ToContainTextAsync("WhatsApp: 50%");
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = "Success rate per channel, last 24 hours" }))
            .ToContainTextAsync(": 50%");
        // A wider range still holds the same two posts.
        await page.GetByLabel("Range").SelectOptionAsync(new SelectOptionValue { Label = "last 7 days" });
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = "Success rate per platform, last 7 days" }))
            .ToContainTextAsync("WhatsApp: 50%");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "statistics.png"), FullPage = true });
    }

    [Fact]
    public async Task Statistics_over_chosen_days_and_one_workspace_are_in_the_pages_link_and_the_link_shows_the_same_figures()
    {
        await using var context = await fixture.NewContextAsync();
        var (page, _, channelId) = await SignedUpWithChannelAsync(context, "range");
        var post = await PostSoonAsync(context, channelId, "Counted today");
        await WaitForStatusAsync(context, post, "PUBLISHED");
        await StudioSession.PostAsync(context, "/api/workspaces", new { name = "Empty team" });
        var today = PlanningSteps.TodayInNewYork;
        var finished = page.GetByRole(AriaRole.Definition).Nth(3);

        await page.GetByRole(AriaRole.Link, new() { Name = "Statistics" }).ClickAsync();
        await page.GetByLabel("Range").SelectOptionAsync(new SelectOptionValue { Label = "custom dates" });
        // Days well before the post: nothing finished in them.
        await page.GetByLabel("From").FillAsync($"{today.AddDays(-10):yyyy-MM-dd}");
        await page.GetByLabel("To", new() { Exact = true }).FillAsync($"{today.AddDays(-3):yyyy-MM-dd}");
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = $"Success rate per platform, {today.AddDays(-10):d MMM yyyy} to {today.AddDays(-3):d MMM yyyy}" })).ToBeVisibleAsync();
        await Assertions.Expect(finished).ToHaveTextAsync("0");
        // Yesterday and today hold it.
        await page.GetByLabel("From").FillAsync($"{today.AddDays(-1):yyyy-MM-dd}");
        await page.GetByLabel("To", new() { Exact = true }).FillAsync($"{today:yyyy-MM-dd}");
        var label = $"{today.AddDays(-1):d MMM yyyy} to {today:d MMM yyyy}";
        await Assertions.Expect(page.GetByRole(AriaRole.Figure, new() { Name = $"Success rate per platform, {label}" })).ToContainTextAsync("WhatsApp: 100%");
        await Assertions.Expect(finished).ToHaveTextAsync("1");
        // The team the user made has no channel: its figures are empty.
        await page.GetByLabel("Workspace").SelectOptionAsync(new SelectOptionValue { Label = "Empty team" });
        await Assertions.Expect(finished).ToHaveTextAsync("0");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"from={today.AddDays(-1):yyyy-MM-dd}.*to={today:yyyy-MM-dd}.*workspace="));

        // The link, opened anew, shows the same choice and figures; then all workspaces again hold the post.
        var shared = await context.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await Assertions.Expect(shared.GetByLabel("Range")).ToHaveValueAsync("custom");
        await Assertions.Expect(shared.GetByLabel("From")).ToHaveValueAsync($"{today.AddDays(-1):yyyy-MM-dd}");
        await Assertions.Expect(shared.GetByRole(AriaRole.Figure, new() { Name = $"Success rate per platform, {label}" })).ToBeVisibleAsync();
        await Assertions.Expect(shared.GetByRole(AriaRole.Definition).Nth(3)).ToHaveTextAsync("0");
        await shared.GetByLabel("Workspace").SelectOptionAsync(new SelectOptionValue { Label = "all my workspaces" });
        await Assertions.Expect(shared.GetByRole(AriaRole.Definition).Nth(3)).ToHaveTextAsync("1");
        await shared.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotDirectory, "statistics-range.png"), FullPage = true });
    }

    private sealed record ScheduledSoon(string Id, DateTime LocalTime);

    private static async Task<(IPage Page, string Account, string ChannelId)> SignedUpWithChannelAsync(IBrowserContext context, string name)
    {
        var page = await StudioSession.SignUpAsync(context, $"{name}-{Guid.NewGuid():N}@example.test");
        var account = $"10656{Random.Shared.Next(10_000_000, 99_999_999)}";
        await StudioSession.ConnectWhatsAppAsync(page, account, Recipient);
        var channelId = (await StudioSession.GetAsync(context, "/api/channels")).GetProperty("channels")[0].GetProperty("id").GetString()!;
        return (page, account, channelId);
    }

    /// <summary>A post a few seconds ahead, so it publishes while the test watches.</summary>
    private static async Task<ScheduledSoon> PostSoonAsync(IBrowserContext context, string channelId, string text)
    {
        var publishAt = DateTimeOffset.UtcNow.AddSeconds(5);
        var post = await StudioSession.PostAsync(context, "/api/posts", new
        {
            channel_id = channelId,
            content = new { text },
            publish_at = publishAt.ToString("O"),
        });
        return new ScheduledSoon(post.GetProperty("id").GetString()!, TimeZoneInfo.ConvertTime(publishAt, PlanningSteps.NewYork).DateTime);
    }

    private static Task WaitForStatusAsync(IBrowserContext context, ScheduledSoon post, string status) => WaitForStatusAsync(context, post.Id, status);

    private static Task WaitForStatusAsync(IBrowserContext context, string postId, string status) =>
        WaitUntilAsync(async () => (await PlanningSteps.GetPostAsync(context, postId)).GetProperty("status").GetString() == status);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 120 s");
            await Task.Delay(500);
        }
    }
}
