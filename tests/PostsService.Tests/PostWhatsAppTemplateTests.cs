using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PostsService.Tests;

/// <summary>A post's own WhatsApp Meta message template (content.whatsapp_template): checked at create, kept, and handed to the publisher with the claim.</summary>
[Collection(PostsServiceCollection.Name)]
public sealed class PostWhatsAppTemplateTests(PostsServiceFixture fixture)
{
    private static CreatePostRequest Create(Channel channel, WhatsAppTemplate template) => new()
    {
        ChannelId = channel.Id,
        Content = new Content { WhatsappTemplate = template },
        PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
    };

    [Fact]
    public async Task A_posts_own_template_is_kept_and_handed_to_the_publisher_with_its_claim()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var template = new WhatsAppTemplate
        {
            Name = "order_ready",
            Language = "pt_BR",
            Components =
            {
                new WhatsAppTemplateComponent
                {
                    Type = "header", Parameters = { new WhatsAppTemplateParameter { Media = new Media { Type = MediaType.Image, Url = "https://example.com/h.jpg" } } },
                },
                new WhatsAppTemplateComponent { Type = "body", Parameters = { new WhatsAppTemplateParameter { Text = "Ana" } } },
            },
        };

        var created = await fixture.Posts.CreatePostAsync(Create(channel, template), user.Headers);

        Assert.Equal(template, created.Content.WhatsappTemplate);
        Assert.Equal(template, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = created.Id }, user.Headers)).Content.WhatsappTemplate);
        await fixture.OwnerScalarAsync("update scheduled_posts set due_at = now() where id = @id", ("id", Guid.Parse(created.Id)));
        var claim = await fixture.Internal.ClaimDuePostsAsync(new ClaimDuePostsRequest { PostIds = { created.Id } }, TestTokens.ForService());
        Assert.Equal(template, Assert.Single(claim.Claimed).Content.WhatsappTemplate);
    }

    [Fact]
    public async Task A_posts_template_is_refused_naming_each_bad_field_and_on_instagram()
    {
        var user = fixture.NewUser();
        var whatsApp = await fixture.CreateWhatsAppChannelAsync(user);
        var instagram = await fixture.CreateInstagramChannelAsync(user);
        var bad = new WhatsAppTemplate
        {
            Name = "Spring Sale!",
            Language = "french",
            Components =
            {
                new WhatsAppTemplateComponent { Type = "footer" },
                new WhatsAppTemplateComponent { Type = "button", Index = 12, Parameters = { new WhatsAppTemplateParameter() } },
                new WhatsAppTemplateComponent
                {
                    Type = "body", Parameters = { new WhatsAppTemplateParameter { Media = new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" } } },
                },
            },
        };

        await Expect.BadFields(async () => await fixture.Posts.CreatePostAsync(Create(whatsApp, bad), user.Headers),
            "content.whatsapp_template.name", "content.whatsapp_template.language", "content.whatsapp_template.components[0].type",
            "content.whatsapp_template.components[1].sub_type", "content.whatsapp_template.components[1].index",
            "content.whatsapp_template.components[1].parameters[0]", "content.whatsapp_template.components[2].parameters[0].media");

        var onInstagram = Create(instagram, new WhatsAppTemplate { Name = "order_ready" });
        onInstagram.Content.Media.Add(new Media { Type = MediaType.Image, Url = "https://example.com/a.jpg" });
        await Expect.BadFields(async () => await fixture.Posts.CreatePostAsync(onInstagram, user.Headers), "content.whatsapp_template");
    }
}
