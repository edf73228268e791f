using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.EndToEnd.Tests;

[Collection(AppHostCollection.Name)]
public sealed class PublishEndToEndTests(AppHostFixture system)
{
    [Fact]
    public async Task A_whatsapp_text_post_is_published_once_at_its_time_and_recorded()
    {
        var user = Guid.NewGuid();
        var auth = TestTokens.ForUser(user);
        var phoneNumberId = $"pn-{Guid.NewGuid():N}"[..16];
        var channels = new ChannelService.ChannelServiceClient(system.PostsChannel);
        var posts = new PostService.PostServiceClient(system.PostsChannel);

        var channel = await channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = phoneNumberId,
            AccessToken = "EAAG-e2e-token",
            DisplayName = "E2E",
            Settings = new ChannelSettings { Recipients = { "+16505551234" } },
        }, auth);

        var text = $"Hello from the end-to-end test {Guid.NewGuid():N}";
        var publishAt = DateTimeOffset.UtcNow.AddSeconds(3);
        var created = await posts.CreatePostAsync(new CreatePostRequest
        {
            ChannelId = channel.Id,
            Content = new Content { Text = text },
            PublishAt = Timestamp.FromDateTimeOffset(publishAt),
        }, auth);
        Assert.Equal(PostStatus.Queued, created.Status);

        var published = await Polling.UntilAsync(
            async () => await posts.GetPostAsync(new GetPostRequest { Id = created.Id }, auth),
            p => p.Status is PostStatus.Published or PostStatus.Failed,
            TimeSpan.FromSeconds(60), "the post to be published");

        Assert.Equal(PostStatus.Published, published.Status);
        Assert.StartsWith("wamid.", published.PlatformPostId);
        Assert.True(published.PublishedAt.ToDateTimeOffset() >= publishAt, "published before its time");

        var effects = await system.Emulator.GetFromJsonAsync<JsonElement>($"/__emu/effects?account={phoneNumberId}");
        var messages = effects.GetProperty("data").EnumerateArray().ToList();
        var message = Assert.Single(messages);
        Assert.Contains(text, message.GetRawText());
        Assert.Contains("16505551234", message.GetRawText());
        Assert.Contains(published.PlatformPostId, message.GetRawText());

        var runs = await posts.ListPostRunsAsync(new ListPostRunsRequest { Id = created.Id }, auth);
        var run = Assert.Single(runs.Runs);
        Assert.Equal("success", run.Status);
        Assert.NotNull(run.FinishedAt);
    }
}
