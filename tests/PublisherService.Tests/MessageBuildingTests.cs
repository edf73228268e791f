using System.Text.Json;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Instagram;
using SocialSync.PublisherService.Platforms.WhatsApp;
using V1 = SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Tests;

public sealed class MessageBuildingTests
{
    private static V1.Content Content(string text, params (V1.MediaType Type, string Url)[] media)
    {
        var content = new V1.Content { Text = text };
        content.Media.AddRange(media.Select(m => new V1.Media { Type = m.Type, Url = m.Url }));
        return content;
    }

    private static JsonElement Json(object value) => JsonSerializer.SerializeToElement(value);

    [Fact]
    public void WhatsApp_text_is_one_text_message_to_the_recipient()
    {
        var message = Json(Assert.Single(WhatsAppMessages.Build(Content("Hello"), new V1.ChannelSettings(), "+16505551234")));
        Assert.Equal("text", message.GetProperty("type").GetString());
        Assert.Equal("+16505551234", message.GetProperty("to").GetString());
        Assert.Equal("Hello", message.GetProperty("text").GetProperty("body").GetString());
        Assert.Equal("whatsapp", message.GetProperty("messaging_product").GetString());
    }

    [Fact]
    public void WhatsApp_media_carry_the_text_as_the_first_caption_and_follow_in_order()
    {
        var messages = WhatsAppMessages.Build(
            Content("Look", (V1.MediaType.Image, "https://cdn.test/a.jpg"), (V1.MediaType.Video, "https://cdn.test/b.mp4"),
                (V1.MediaType.Document, "https://cdn.test/docs/report.pdf")),
            new V1.ChannelSettings(), "+16505551234").Select(Json).ToList();

        Assert.Equal(["image", "video", "document"], messages.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal("https://cdn.test/a.jpg", messages[0].GetProperty("image").GetProperty("link").GetString());
        Assert.Equal("Look", messages[0].GetProperty("image").GetProperty("caption").GetString());
        Assert.False(messages[1].GetProperty("video").TryGetProperty("caption", out _));
        Assert.Equal("report.pdf", messages[2].GetProperty("document").GetProperty("filename").GetString());
    }

    [Fact]
    public void WhatsApp_audio_and_stickers_are_their_own_message_types_and_carry_no_caption()
    {
        var messages = WhatsAppMessages.Build(
            Content("Listen", (V1.MediaType.Audio, "https://cdn.test/voice.ogg"), (V1.MediaType.Sticker, "https://cdn.test/s.webp")),
            new V1.ChannelSettings(), "+16505551234").Select(Json).ToList();

        Assert.Equal(["audio", "sticker"], messages.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal("https://cdn.test/voice.ogg", messages[0].GetProperty("audio").GetProperty("link").GetString());
        Assert.False(messages[0].GetProperty("audio").TryGetProperty("caption", out _));
        Assert.Equal("https://cdn.test/s.webp", messages[1].GetProperty("sticker").GetProperty("link").GetString());
    }

    [Fact]
    public void WhatsApp_template_mode_sends_the_template_with_header_media_and_body_text()
    {
        var settings = new V1.ChannelSettings { TemplateName = "post_digest", TemplateLanguage = "de_DE" };
        var message = Json(Assert.Single(WhatsAppMessages.Build(
            Content("Body text", (V1.MediaType.Image, "https://cdn.test/h.jpg")), settings, "+4915112345678")));

        Assert.Equal("template", message.GetProperty("type").GetString());
        var template = message.GetProperty("template");
        Assert.Equal("post_digest", template.GetProperty("name").GetString());
        Assert.Equal("de_DE", template.GetProperty("language").GetProperty("code").GetString());
        var components = template.GetProperty("components").EnumerateArray().ToList();
        Assert.Equal("header", components[0].GetProperty("type").GetString());
        Assert.Equal("https://cdn.test/h.jpg", components[0].GetProperty("parameters")[0].GetProperty("image").GetProperty("link").GetString());
        Assert.Equal("Body text", components[1].GetProperty("parameters")[0].GetProperty("text").GetString());
    }

    [Fact]
    public void Instagram_feed_image_is_one_image_container_with_the_caption()
    {
        var plan = ContainerPlan.For(Content("Caption", (V1.MediaType.Image, "https://cdn.test/a.jpg")), V1.InstagramMode.Feed);
        Assert.Null(plan.Error);
        Assert.Empty(plan.Children);
        Assert.Equal("https://cdn.test/a.jpg", plan.Parent["image_url"]);
        Assert.Equal("Caption", plan.Parent["caption"]);
        Assert.False(plan.Parent.ContainsKey("media_type"));
    }

    [Fact]
    public void Instagram_single_feed_video_is_a_reel_shared_to_the_feed()
    {
        var plan = ContainerPlan.For(Content("Clip", (V1.MediaType.Video, "https://cdn.test/v.mp4")), V1.InstagramMode.Feed);
        Assert.Equal("REELS", plan.Parent["media_type"]);
        Assert.Equal("https://cdn.test/v.mp4", plan.Parent["video_url"]);
        Assert.Equal(true, plan.Parent["share_to_feed"]);
    }

    [Fact]
    public void Instagram_several_feed_items_are_a_carousel_of_items_without_captions()
    {
        var plan = ContainerPlan.For(
            Content("Album", (V1.MediaType.Image, "https://cdn.test/1.jpg"), (V1.MediaType.Video, "https://cdn.test/2.mp4")),
            V1.InstagramMode.Feed);
        Assert.Equal(2, plan.Children.Count);
        Assert.All(plan.Children, c => Assert.Equal(true, c["is_carousel_item"]));
        Assert.All(plan.Children, c => Assert.False(c.ContainsKey("caption")));
        Assert.Equal("VIDEO", plan.Children[1]["media_type"]);
        Assert.Equal("CAROUSEL", plan.Parent["media_type"]);
        Assert.Equal("Album", plan.Parent["caption"]);
    }

    [Theory]
    [InlineData(V1.InstagramMode.Reel, V1.MediaType.Image)]
    [InlineData(V1.InstagramMode.Feed, V1.MediaType.Document)]
    public void Instagram_content_the_mode_cannot_carry_is_refused(V1.InstagramMode mode, V1.MediaType type)
    {
        Assert.NotNull(ContainerPlan.For(Content("x", (type, "https://cdn.test/x")), mode).Error);
    }

    [Fact]
    public void Instagram_story_has_no_caption_and_takes_a_video_or_an_image()
    {
        var video = ContainerPlan.For(Content("ignored", (V1.MediaType.Video, "https://cdn.test/s.mp4")), V1.InstagramMode.Story);
        Assert.Equal("STORIES", video.Parent["media_type"]);
        Assert.Equal("https://cdn.test/s.mp4", video.Parent["video_url"]);
        Assert.False(video.Parent.ContainsKey("caption"));
        var image = ContainerPlan.For(Content("", (V1.MediaType.Image, "https://cdn.test/s.jpg")), V1.InstagramMode.Story);
        Assert.Equal("https://cdn.test/s.jpg", image.Parent["image_url"]);
    }

    [Fact]
    public void Instagram_direct_messages_send_the_text_then_each_attachment()
    {
        var messages = InstagramDirectMessages.Build(Content("Hi", (V1.MediaType.Image, "https://cdn.test/a.jpg")), "IGSID1")
            .Select(Json).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Equal("IGSID1", messages[0].GetProperty("recipient").GetProperty("id").GetString());
        Assert.Equal("Hi", messages[0].GetProperty("message").GetProperty("text").GetString());
        Assert.Equal("image", messages[1].GetProperty("message").GetProperty("attachment").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("Error: Media upload has failed with error code 2207026", 352, 2207026, ErrorClass.Permanent)]
    [InlineData("Error: 2207053", -1, 2207053, ErrorClass.Transient)]
    [InlineData("Error: 2207003", -2, 2207003, ErrorClass.Transient)]
    public void A_container_error_is_classified_by_the_subcode_in_its_status(string status, int code, int subcode, ErrorClass expected)
    {
        var error = InstagramContainers.Failure(new ContainerState("ERROR", status));
        Assert.Equal((code, (int?)subcode, expected), (error.Code, error.Subcode, error.ErrorClass));
    }

    [Fact]
    public void A_container_error_without_a_known_subcode_is_permanent()
    {
        Assert.Equal(ErrorClass.Permanent, InstagramContainers.Failure(new ContainerState("ERROR", "Error: something odd")).ErrorClass);
    }
}
