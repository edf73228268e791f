using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>WhatsApp audio and stickers as media types: sent without a caption, and WhatsApp only.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class AudioAndStickerTests(PostsServiceFixture fixture)
{
    private static CreatePostRequest Post(Channel channel, string text, MediaType type) => new()
    {
        ChannelId = channel.Id,
        Content = new Content { Text = text, Media = { new Media { Type = type, Url = "https://example.com/file" } } },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
    };

    [Theory]
    [InlineData(MediaType.Audio)]
    [InlineData(MediaType.Sticker)]
    public async Task A_WhatsApp_post_of_audio_or_a_sticker_is_saved_without_text_and_refused_with_a_caption(MediaType type)
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);

        var created = await fixture.Posts.CreatePostAsync(Post(channel, "", type), user.Headers);
        Assert.Equal(type, Assert.Single(created.Content.Media).Type);

        var bad = await Expect.BadFields(() => fixture.Posts.CreatePostAsync(Post(channel, "Listen", type), user.Headers).ResponseAsync, "content.text");
        Assert.Equal("must be empty when the first media item is audio or a sticker: WhatsApp sends them without a caption",
            Assert.Single(bad.FieldViolations).Description);
    }

    [Theory]
    [InlineData(MediaType.Audio)]
    [InlineData(MediaType.Sticker)]
    public async Task Instagram_refuses_audio_and_stickers(MediaType type)
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateInstagramChannelAsync(user);
        var bad = await Expect.BadFields(() => fixture.Posts.CreatePostAsync(Post(channel, "", type), user.Headers).ResponseAsync, "content.media[0].type");
        Assert.Contains(bad.FieldViolations, v => v.Description == "Instagram accepts images and videos only");
    }
}
