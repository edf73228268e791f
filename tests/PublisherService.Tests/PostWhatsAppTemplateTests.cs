using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.PublisherService.Platforms.WhatsApp;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// A WhatsApp Meta message template chosen per post (content.whatsapp_template), over the channel's: what the
/// publisher builds, and what the emulator receives when a post made from a SocialSync template is published.
/// </summary>
public sealed class PostWhatsAppTemplateTests(SystemFixture fixture) : IClassFixture<SystemFixture>
{
    private SocialSyncSystem System => fixture.System;

    private static WhatsAppTemplate SpringSale(string bodyText) => new()
    {
        Name = "spring_sale",
        Language = "fr",
        Components =
        {
            new WhatsAppTemplateComponent { Type = "body", Parameters = { new WhatsAppTemplateParameter { Text = bodyText } } },
            new WhatsAppTemplateComponent
            {
                Type = "button", SubType = "quick_reply", Index = 1, Parameters = { new WhatsAppTemplateParameter { Payload = "STOP" } },
            },
        },
    };

    [Fact]
    public void A_posts_own_template_is_sent_instead_of_the_channels_with_its_components_as_given()
    {
        var settings = new ChannelSettings { TemplateName = "channel_default", TemplateLanguage = "de_DE" };
        var content = new Content { Text = "ignored by a template with components", WhatsappTemplate = SpringSale("Ana") };

        var message = JsonSerializer.SerializeToElement(Assert.Single(WhatsAppMessages.Build(content, settings, "+16505551234")));

        var template = message.GetProperty("template");
        Assert.Equal("spring_sale", template.GetProperty("name").GetString());
        Assert.Equal("fr", template.GetProperty("language").GetProperty("code").GetString());
        var components = template.GetProperty("components").EnumerateArray().ToList();
        Assert.Equal("Ana", components[0].GetProperty("parameters")[0].GetProperty("text").GetString());
        Assert.Equal(("quick_reply", "1"), (components[1].GetProperty("sub_type").GetString(), components[1].GetProperty("index").GetString()));
        Assert.Equal("STOP", components[1].GetProperty("parameters")[0].GetProperty("payload").GetString());
    }

    [Fact]
    public async Task A_post_made_from_a_template_reaches_the_emulator_as_its_own_meta_template_with_the_values_rendered()
    {
        var user = new TestUser(System);
        var account = TestUser.NewPhoneNumberId();
        var channel = await user.ChannelAsync(Platform.Whatsapp, account, new ChannelSettings
        {
            Recipients = { "+16505551234" }, TemplateName = "channel_default", TemplateLanguage = "de_DE",
        });
        var templates = new TemplateService.TemplateServiceClient(System.PostsChannel);
        var template = await templates.CreateTemplateAsync(new CreateTemplateRequest
        {
            Template = new Template
            {
                Name = "Spring sale",
                Variables = { new TemplateVariable { Name = "first_name" } },
                Content = new Content { WhatsappTemplate = SpringSale("{{first_name}}") },
            },
        }, user.Auth);

        var created = await templates.CreatePostFromTemplateAsync(new CreatePostFromTemplateRequest
        {
            TemplateId = template.Id,
            Variables = { ["first_name"] = "Ana" },
            Post = new CreatePostRequest { ChannelId = channel.Id, PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(1)) },
        }, user.Auth);
        var post = await user.FinishedAsync(created);

        Assert.Equal(PostStatus.Published, post.Status);
        Assert.Equal("spring_sale", post.Content.WhatsappTemplate.Name);
        var message = Assert.Single(await user.EffectsAsync(account, "whatsapp_message"));
        Assert.Equal("template", message.GetProperty("type").GetString());
        var sent = message.GetProperty("template");
        Assert.Equal("spring_sale", sent.GetProperty("name").GetString());
        Assert.Equal("fr", sent.GetProperty("language").GetProperty("code").GetString());
        Assert.Equal("Ana", sent.GetProperty("components")[0].GetProperty("parameters")[0].GetProperty("text").GetString());
    }
}
