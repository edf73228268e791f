using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// The system with Meta's status webhooks on, an experiment finisher that looks every half second, and one insights
/// snapshot 8 seconds after publishing.
/// </summary>
public sealed class ExperimentSystemFixture : IAsyncLifetime
{
    public SocialSyncSystem System { get; private set; } = null!;

    public ExperimentService.ExperimentServiceClient Experiments => new(System.PostsChannel);

    public async Task InitializeAsync() => System = await SocialSyncSystem.StartAsync(new SystemOptions
    {
        MetaWebhooks = true,
        Settings = new Dictionary<string, string?>
        {
            ["Retry__BaseDelay"] = "00:00:01",
            ["Experiments__CheckInterval"] = "00:00:00.500",
            ["Insights__SnapshotAges__0"] = "00:00:08",
            ["Insights__FetchInterval"] = "00:00:00.500",
        },
    });

    public async Task DisposeAsync() => await System.DisposeAsync();
}

/// <summary>
/// A/B experiments through real processes (issue 17 part 4, docs/experiments.md): the variants publish on the emulator,
/// their figures come from its status webhooks and insights model, and the finisher decides after the window.
/// </summary>
public sealed class ExperimentSystemTests(ExperimentSystemFixture fixture) : IClassFixture<ExperimentSystemFixture>
{
    private const string Jpg = "https://cdn.test/photo.jpg";

    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task A_WhatsApp_experiment_reaches_each_recipient_once_and_its_winner_goes_to_the_holdout_after_the_window()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        string[] recipients = [.. Enumerable.Range(0, 10).Select(i => $"+1650555{i:0000}")];
        var channel = await user.WhatsAppChannelAsync(account, AmbiguousSendPolicy.Unspecified, recipients);

        var experiment = await fixture.Experiments.CreateExperimentAsync(new CreateExperimentRequest
        {
            ChannelId = channel.Id,
            Variants =
            {
                new ExperimentVariantContent { Content = new Content { Text = "Variant A" } },
                new ExperimentVariantContent { Content = new Content { Text = "Variant B" } },
            },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(3)),
            TestShare = 0.6,
            WinnerAfter = Duration.FromTimeSpan(TimeSpan.FromSeconds(10)),
        }, user.Auth);
        // One of A's recipients never reads it: B (all read) wins.
        var unread = experiment.Variants[0].Recipients[0];
        await System.Emulator.AddWebhookRuleAsync(new { match = new { account, recipient = unread }, statuses = new[] { "sent", "delivered" } });

        // Every status arrives within the window (the result so far names no winner), then the finisher decides.
        var measured = await Polling.UntilAsync(
            () => fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, user.Auth).ResponseAsync,
            e => e.Variants.Sum(v => v.Delivered) == 6 && e.Variants.Sum(v => v.Read) == 5, TimeSpan.FromSeconds(60), "every variant's statuses");
        Assert.Equal((ExperimentState.Running, ""), (measured.State, measured.WinnerLabel));
        var finished = await Polling.UntilAsync(
            () => fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, user.Auth).ResponseAsync,
            e => e.State == ExperimentState.Finished, TimeSpan.FromSeconds(90), "the experiment to finish");
        Assert.Equal("B", finished.WinnerLabel);
        var winnerPost = await user.FinishedAsync(new ScheduledPost { Id = finished.WinnerPostId });
        Assert.Equal(PostStatus.Published, winnerPost.Status);

        // Every recipient got exactly one message: their variant's, or the winner's when held back.
        var messages = await user.EffectsAsync(account, "whatsapp_message");
        var byRecipient = messages.GroupBy(m => m.GetProperty("to").GetString()!).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(recipients.Order(), byRecipient.Keys.Order());
        Assert.All(byRecipient.Values, list => Assert.Single(list));
        string PostOf(string recipient) => byRecipient[recipient][0].GetProperty("biz_opaque_callback_data").GetString()!.Split(':')[1];
        foreach (var variant in finished.Variants)
        {
            Assert.All(variant.Recipients, r => Assert.Equal(variant.PostId, PostOf(r)));
        }
        Assert.All(finished.HoldoutRecipients, r => Assert.Equal(finished.WinnerPostId, PostOf(r)));
        Assert.Equal(4, finished.HoldoutRecipients.Count);

        // The figures are the emulator's statuses: A 3 delivered, 2 read; B 3 read.
        Assert.Equal([(3L, 3L, 3L, 2L, 0L), (3L, 3L, 3L, 3L, 0L)], finished.Variants.Select(v => (v.SampleSize, v.Sent, v.Delivered, v.Read, v.Failed)));
        Assert.Equal([2.0 / 3, 1.0], finished.Variants.Select(v => v.ReadRate));
    }

    [Fact]
    public async Task An_Instagram_experiment_compares_each_variants_insights_as_the_emulator_models_them_and_names_the_better()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        var channel = await user.InstagramChannelAsync(account);
        ExperimentVariantContent Variant(string text, int seconds) => new()
        {
            Content = new Content { Text = text, Media = { new Media { Type = MediaType.Image, Url = Jpg } } },
            PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(seconds)),
        };

        var experiment = await fixture.Experiments.CreateExperimentAsync(new CreateExperimentRequest
        {
            ChannelId = channel.Id,
            Variants = { Variant("Monday morning", 2), Variant("Wednesday evening", 4) },
            WinnerAfter = Duration.FromTimeSpan(TimeSpan.FromSeconds(15)),
        }, user.Auth);
        // Each media is filed under an hour of a past week (the model depends on weekday and hour): A Monday 09:00, B Wednesday 19:00 UTC.
        var lastWeek = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-14);
        (DayOfWeek Day, int Hour)[] slots = [(DayOfWeek.Monday, 9), (DayOfWeek.Wednesday, 19)];
        for (var i = 0; i < 2; i++)
        {
            var post = await user.UntilAsync(new ScheduledPost { Id = experiment.Variants[i].PostId }, p => p.Status == PostStatus.Published,
                $"variant {i} to be published", seconds: 60);
            var day = Enumerable.Range(0, 7).Select(lastWeek.AddDays).Single(d => d.DayOfWeek == slots[i].Day);
            var at = new DateTimeOffset(day.ToDateTime(new TimeOnly(slots[i].Hour, 10)), TimeSpan.Zero);
            using var moved = await System.Emulator.Http.PutAsJsonAsync($"/__emu/published-media/{post.PlatformPostId}", new { timestamp = at.ToString("O") });
            moved.EnsureSuccessStatusCode();
        }

        var finished = await Polling.UntilAsync(
            () => fixture.Experiments.GetExperimentAsync(new GetExperimentRequest { Id = experiment.Id }, user.Auth).ResponseAsync,
            e => e.State == ExperimentState.Finished, TimeSpan.FromSeconds(90), "the experiment to finish");

        var model = await System.Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/insights/model?account={account}");
        var modelled = model.GetProperty("slots").EnumerateArray().ToDictionary(
            s => (global::System.Enum.Parse<DayOfWeek>(s.GetProperty("weekday").GetString()!), s.GetProperty("hour").GetInt32()),
            s => (Reach: s.GetProperty("reach").GetInt64(), Interactions: s.GetProperty("total_interactions").GetInt64(),
                Rate: s.GetProperty("engagement_rate").GetDouble()));
        for (var i = 0; i < 2; i++)
        {
            var expected = modelled[slots[i]];
            var variant = finished.Variants[i];
            Assert.Equal((expected.Reach, expected.Interactions), (variant.Reach, variant.TotalInteractions));
            Assert.Equal(expected.Reach, variant.SampleSize);
            Assert.Equal(expected.Rate, variant.EngagementRate, 12);
            Assert.Equal(variant.TotalInteractions, variant.Likes + variant.Comments + variant.Shares + variant.Saved);
        }
        var better = modelled[slots[0]].Rate > modelled[slots[1]].Rate ? "A" : "B";
        Assert.Equal(better, finished.WinnerLabel);
        Assert.Equal("", finished.WinnerPostId);
    }
}
