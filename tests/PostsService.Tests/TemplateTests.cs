using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// Templates (issue 16): a workspace's reusable contents with typed variables and per-platform variants, their roles
/// and row-level security, and posts created from them through the create path of every post.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class TemplateTests(PostsServiceFixture fixture)
{
    /// <summary>A greeting with a string without default, a date with a format and a number with a default and a format; its own WhatsApp text.</summary>
    private static Template Greeting(string workspaceId = "") => new()
    {
        WorkspaceId = workspaceId,
        Name = "Greeting",
        Variables =
        {
            new TemplateVariable { Name = "first_name", Type = TemplateVariableType.String },
            new TemplateVariable { Name = "date", Type = TemplateVariableType.Date, Format = "dd/MM/yyyy", DefaultValue = "2026-12-24" },
            new TemplateVariable { Name = "discount", Type = TemplateVariableType.Number, Format = "0.00", DefaultValue = "10" },
        },
        Content = new Content
        {
            Text = "Hello {{first_name}}, see you on {{ date }}: {{discount}}% off #sale",
            Media = { new Media { Type = MediaType.Image, Url = "https://example.com/sale.jpg" } },
        },
        Variants =
        {
            new TemplateVariant { Platform = Platform.Whatsapp, Content = new Content { Text = "Hi {{first_name}}! {{discount}}% off until {{date}}." } },
        },
    };

    /// <summary>Three hours ahead, the same for every post of a test run, so a retry repeats its request exactly.</summary>
    private static readonly Timestamp PublishAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(3));

    private static CreatePostRequest Post(Channel channel, string requestId = "") => new()
    {
        ChannelId = channel.Id,
        PublishAt = PublishAt,
        RequestId = requestId,
    };

    private async Task<ScheduledPost> FromTemplateAsync(TestUser user, Template template, Channel channel, IDictionary<string, string> values,
        string requestId = "") =>
        await fixture.Templates.CreatePostFromTemplateAsync(new CreatePostFromTemplateRequest
        {
            TemplateId = template.Id, Variables = { values }, Post = Post(channel, requestId),
        }, user.Headers);

    private async Task<(TestUser Owner, Workspace Workspace, Channel Channel)> TeamAsync()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Templates" }, owner.Headers);
        var channel = await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace);
        return (owner, workspace, channel);
    }

    [Fact]
    public async Task A_template_is_created_read_listed_updated_with_its_etag_and_deleted()
    {
        var user = fixture.NewUser();
        var created = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting() }, user.Headers);
        Assert.Equal(user.Id.ToString(), created.WorkspaceId);
        Assert.Equal(user.Id.ToString(), created.CreatedBy);
        Assert.Equal(3, created.Variables.Count);
        Assert.Equal("2026-12-24", created.Variables[1].DefaultValue);
        Assert.False(created.Variables[0].HasDefaultValue);
        Assert.Equal(Platform.Whatsapp, Assert.Single(created.Variants).Platform);

        var read = await fixture.Templates.GetTemplateAsync(new GetTemplateRequest { Id = created.Id }, user.Headers);
        Assert.Equal(created, read);
        var listed = await fixture.Templates.ListTemplatesAsync(new ListTemplatesRequest { WorkspaceId = created.WorkspaceId }, user.Headers);
        Assert.Equal(created.Id, Assert.Single(listed.Templates).Id);

        var renamed = await fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template { Id = created.Id, Etag = created.Etag, Name = "Welcome" },
            UpdateMask = new FieldMask { Paths = { "name" } },
        }, user.Headers);
        Assert.Equal("Welcome", renamed.Name);
        Assert.Equal(created.Content, renamed.Content);
        Assert.NotEqual(created.Etag, renamed.Etag);

        await Expect.Status(StatusCode.Aborted, async () => await fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template { Id = created.Id, Etag = created.Etag, Description = "stale" },
        }, user.Headers));
        await Expect.Status(StatusCode.Aborted, async () => await fixture.Templates.DeleteTemplateAsync(
            new DeleteTemplateRequest { Id = created.Id, Etag = created.Etag }, user.Headers));

        await fixture.Templates.DeleteTemplateAsync(new DeleteTemplateRequest { Id = created.Id, Etag = renamed.Etag }, user.Headers);
        await Expect.Status(StatusCode.NotFound, async () => await fixture.Templates.GetTemplateAsync(new GetTemplateRequest { Id = created.Id }, user.Headers));
    }

    [Fact]
    public async Task Members_who_write_posts_write_templates_viewers_only_read_and_other_workspaces_see_nothing()
    {
        var (owner, workspace, _) = await TeamAsync();
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var outsider = fixture.NewUser();

        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting(workspace.Id) }, contributor.Headers);
        var changed = await fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template { Id = template.Id, Description = "By the contributor" },
        }, contributor.Headers);
        Assert.Equal("By the contributor", changed.Description);

        Assert.Equal(template.Id, (await fixture.Templates.GetTemplateAsync(new GetTemplateRequest { Id = template.Id }, viewer.Headers)).Id);
        Assert.Contains((await fixture.Templates.ListTemplatesAsync(new ListTemplatesRequest(), viewer.Headers)).Templates, t => t.Id == template.Id);
        var denied = await Expect.Status(StatusCode.PermissionDenied, async () =>
            await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting(workspace.Id) }, viewer.Headers));
        Assert.Contains("contributor", denied.Status.Detail);
        await Expect.Status(StatusCode.PermissionDenied, async () => await fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template { Id = template.Id, Description = "By the viewer" },
        }, viewer.Headers));
        await Expect.Status(StatusCode.PermissionDenied, async () =>
            await fixture.Templates.DeleteTemplateAsync(new DeleteTemplateRequest { Id = template.Id }, viewer.Headers));

        await Expect.Status(StatusCode.NotFound, async () => await fixture.Templates.GetTemplateAsync(new GetTemplateRequest { Id = template.Id }, outsider.Headers));
        await Expect.Status(StatusCode.NotFound, async () => await fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template { Id = template.Id, Description = "By an outsider" },
        }, outsider.Headers));
        await Expect.Status(StatusCode.NotFound, async () =>
            await fixture.Templates.DeleteTemplateAsync(new DeleteTemplateRequest { Id = template.Id }, outsider.Headers));
        await Expect.Status(StatusCode.NotFound, async () =>
            await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting(workspace.Id) }, outsider.Headers));
        Assert.DoesNotContain((await fixture.Templates.ListTemplatesAsync(new ListTemplatesRequest(), outsider.Headers)).Templates, t => t.Id == template.Id);

        await fixture.Templates.DeleteTemplateAsync(new DeleteTemplateRequest { Id = template.Id }, contributor.Headers);
    }

    [Fact]
    public async Task Row_level_security_hides_another_workspaces_templates_even_from_a_query_without_filters()
    {
        var (owner, workspace, _) = await TeamAsync();
        await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting(workspace.Id) }, owner.Headers);
        var outsider = fixture.NewUser();

        await using var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        async Task<long> CountAsAsync(TestUser user)
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var set = new NpgsqlCommand("select set_config('app.user_id', @u, true)", connection, transaction))
            {
                set.Parameters.AddWithValue("u", user.Id.ToString());
                await set.ExecuteNonQueryAsync();
            }
            await using var count = new NpgsqlCommand("select count(*) from templates where workspace_id = @w", connection, transaction);
            count.Parameters.AddWithValue("w", Guid.Parse(workspace.Id));
            return (long)(await count.ExecuteScalarAsync())!;
        }
        Assert.Equal(1, await CountAsAsync(owner));
        Assert.Equal(0, await CountAsAsync(outsider));
    }

    [Fact]
    public async Task A_template_is_refused_naming_each_field_an_unknown_variable_a_bad_name_a_default_not_of_its_type_and_a_bad_reference()
    {
        var user = fixture.NewUser();
        var template = Greeting();
        template.Variables.Add(new TemplateVariable { Name = "First Name" });
        template.Variables.Add(new TemplateVariable { Name = "count", Type = TemplateVariableType.Number, DefaultValue = "three" });
        template.Variables.Add(new TemplateVariable { Name = "day", Type = TemplateVariableType.Date, DefaultValue = "24/12/2026" });
        template.Variables.Add(new TemplateVariable { Name = "label", Type = TemplateVariableType.String, Format = "0.00" });
        template.Content.Text = "Hello {{first_name}} and {{nickname}}";
        template.Variants[0].Content.Text = "Hi {{Not A Name}}";
        template.Variants.Add(new TemplateVariant { Platform = Platform.Whatsapp, Content = new Content { Text = "again" } });

        var bad = await Expect.BadFields(async () => await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = template }, user.Headers),
            "template.variables[3].name", "template.variables[4].default_value", "template.variables[5].default_value", "template.variables[6].format",
            "template.content.text", "template.variants[0].content.text", "template.variants[1].platform");
        Assert.Contains(bad.FieldViolations, v => v.Field == "template.content.text" && v.Description.Contains("{{nickname}}"));
        Assert.Contains(bad.FieldViolations, v => v.Field == "template.variants[0].content.text" && v.Description.Contains("{{Not A Name}}"));
        Assert.Contains(bad.FieldViolations, v => v.Field == "template.variables[4].default_value" && v.Description.Contains("number"));
        Assert.Contains(bad.FieldViolations, v => v.Field == "template.variables[5].default_value" && v.Description.Contains("yyyy-MM-dd"));
        Assert.DoesNotContain(bad.FieldViolations, v => v.Field.StartsWith("template.variables[0]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_post_from_a_template_takes_its_platforms_variant_with_typed_values_formatted_and_defaults_filled()
    {
        var user = fixture.NewUser();
        var whatsApp = await fixture.CreateWhatsAppChannelAsync(user);
        var instagram = await fixture.CreateInstagramChannelAsync(user);
        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting() }, user.Headers);

        var onWhatsApp = await FromTemplateAsync(user, template, whatsApp, new Dictionary<string, string> { ["first_name"] = "Ana", ["discount"] = "12.5" });
        Assert.Equal("Hi Ana! 12.50% off until 24/12/2026.", onWhatsApp.Content.Text);
        Assert.Empty(onWhatsApp.Content.Media);
        Assert.Equal(PostStatus.Queued, onWhatsApp.Status);

        var onInstagram = await FromTemplateAsync(user, template, instagram, new Dictionary<string, string> { ["first_name"] = "Bo", ["date"] = "2027-01-05" });
        Assert.Equal("Hello Bo, see you on 05/01/2027: 10.00% off #sale", onInstagram.Content.Text);
        Assert.Equal("https://example.com/sale.jpg", Assert.Single(onInstagram.Content.Media).Url);

        var stored = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = onWhatsApp.Id }, user.Headers);
        Assert.Equal(onWhatsApp.Content, stored.Content);

        var preview = await fixture.Templates.RenderTemplateAsync(new RenderTemplateRequest
        {
            Id = template.Id, Platform = Platform.Whatsapp, Variables = { ["first_name"] = "Ana", ["discount"] = "12.5" },
        }, user.Headers);
        Assert.Equal(onWhatsApp.Content.Text, preview.Text);
    }

    [Fact]
    public async Task Bad_values_are_refused_naming_each_variable_and_the_rendered_text_must_pass_the_platforms_rules()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting() }, user.Headers);

        var bad = await Expect.BadFields(async () => await FromTemplateAsync(user, template, channel,
                new Dictionary<string, string> { ["date"] = "tomorrow", ["discount"] = "ten", ["nickname"] = "Al" }),
            "variables.first_name", "variables.date", "variables.discount", "variables.nickname");
        Assert.Contains(bad.FieldViolations, v => v.Field == "variables.first_name" && v.Description.Contains("no default"));
        Assert.Contains(bad.FieldViolations, v => v.Field == "variables.discount" && v.Description.Contains("number"));

        // 4096 characters is WhatsApp's limit for a text: the value makes the rendered text longer.
        var tooLong = await Expect.BadFields(async () => await FromTemplateAsync(user, template, channel,
            new Dictionary<string, string> { ["first_name"] = new('a', 4090) }), "post.content.text");
        Assert.Contains("4096", Assert.Single(tooLong.FieldViolations).Description);

        await Expect.BadFields(async () => await fixture.Templates.CreatePostFromTemplateAsync(new CreatePostFromTemplateRequest
        {
            TemplateId = template.Id,
            Variables = { ["first_name"] = "Ana" },
            Post = new CreatePostRequest { ChannelId = channel.Id, Content = new Content { Text = "mine" }, PublishAt = Post(channel).PublishAt },
        }, user.Headers), "post.content");
        Assert.Empty((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts);
    }

    [Fact]
    public async Task A_post_from_a_template_goes_the_create_path_roles_approval_request_id_and_workspace()
    {
        var (owner, workspace, channel) = await TeamAsync();
        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting(workspace.Id) }, owner.Headers);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);
        var viewer = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Viewer);
        var values = new Dictionary<string, string> { ["first_name"] = "Ana" };

        var byContributor = await FromTemplateAsync(contributor, template, channel, values);
        Assert.Equal(PostStatus.PendingApproval, byContributor.Status);
        await Expect.Status(StatusCode.PermissionDenied, async () => await FromTemplateAsync(viewer, template, channel, values));

        var first = await FromTemplateAsync(owner, template, channel, values, requestId: "from-template-1");
        var again = await FromTemplateAsync(owner, template, channel, values, requestId: "from-template-1");
        Assert.Equal(first.Id, again.Id);
        await Expect.Status(StatusCode.AlreadyExists, async () =>
            await FromTemplateAsync(owner, template, channel, new Dictionary<string, string> { ["first_name"] = "Bo" }, requestId: "from-template-1"));

        // A template of the owner's personal workspace is not for the team's channel; an outsider sees neither.
        var personal = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting() }, owner.Headers);
        await Expect.BadFields(async () => await FromTemplateAsync(owner, personal, channel, values), "template_id");
        var outsider = fixture.NewUser();
        var outsiderChannel = await fixture.CreateWhatsAppChannelAsync(outsider);
        var notFound = await Expect.Status(StatusCode.NotFound, async () => await FromTemplateAsync(outsider, template, outsiderChannel, values));
        Assert.Contains("template", notFound.Status.Detail);
        await Expect.Status(StatusCode.NotFound, async () => await FromTemplateAsync(outsider, personal, channel, values));
    }

    [Fact]
    public async Task Every_template_call_has_a_REST_route()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        async Task<string> SendAsync(HttpMethod method, string path, string? json = null)
        {
            using var response = await fixture.Http.SendAsync(fixture.Rest(method, path, user, json));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {body}");
            return body;
        }

        var created = await SendAsync(HttpMethod.Post, "/api/templates",
            """
            {"name":"Rest","variables":[{"name":"who","defaultValue":"you"}],"content":{"text":"Hi {{who}}"},
             "variants":[{"platform":"instagram","content":{"text":"Hey {{who}}","media":[{"type":"image","url":"https://example.com/a.jpg"}]}}]}
            """);
        var id = System.Text.Json.JsonDocument.Parse(created).RootElement.GetProperty("id").GetString();
        Assert.Contains("\"Rest\"", await SendAsync(HttpMethod.Get, $"/api/templates/{id}"));
        Assert.Contains(id!, await SendAsync(HttpMethod.Get, "/api/templates?page_size=10"));
        Assert.Contains("\"Renamed\"", await SendAsync(HttpMethod.Patch, $"/api/templates/{id}", """{"name":"Renamed"}"""));
        Assert.Contains("Hi Ana", await SendAsync(HttpMethod.Post, $"/api/templates/{id}:render", """{"variables":{"who":"Ana"}}"""));
        // The original contract's enum words are taken in a body that is one field of the request, as in one that is the whole request.
        Assert.Contains("Hey Ana", await SendAsync(HttpMethod.Post, $"/api/templates/{id}:render", """{"platform":"instagram","variables":{"who":"Ana"}}"""));
        var publishAt = DateTimeOffset.UtcNow.AddHours(2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Hi you", await SendAsync(HttpMethod.Post, $"/api/templates/{id}:createPost",
            $$$"""{"post":{"channelId":"{{{channel.Id}}}","publishAt":"{{{publishAt}}}"}}"""));
        await SendAsync(HttpMethod.Delete, $"/api/templates/{id}");
    }

    [Fact]
    public async Task CSV_import_renders_each_rows_template_with_its_variables_and_names_each_bad_template_cell()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var template = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = Greeting() }, user.Headers);
        var at = DateTimeOffset.UtcNow.AddDays(2).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        const string header = "channel_id,publish_at,time_zone,text,media,recipients,rrule,template,variables";
        string Row(string text, string templateCell, string variables) =>
            $"{channel.Id},{at},,{text},,,,{templateCell},\"{variables.Replace("\"", "\"\"")}\"";
        var good = Row("", template.Id, """{"first_name":"Ana","discount":12.5}""");
        var rows = new[]
        {
            good,
            Row("", template.Id, """{"discount":"3"}"""),
            Row("", template.Id, """{"first_name":"Bo","discount":"ten"}"""),
            Row("", Guid.NewGuid().ToString(), """{"first_name":"Cy"}"""),
            Row("own text", template.Id, """{"first_name":"Di"}"""),
            Row("no template", "", """{"first_name":"Ed"}"""),
            Row("", "welcome", ""),
            Row("", template.Id, "first_name=Fay"),
        };
        Google.Protobuf.ByteString File(IEnumerable<string> lines) => Google.Protobuf.ByteString.CopyFromUtf8(header + "\n" + string.Join("\n", lines) + "\n");

        var bad = await Expect.BadFields(async () => await fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = File(rows) }, user.Headers));
        Assert.Equal(
            ["rows[1].variables", "rows[2].variables", "rows[3].template", "rows[4].text", "rows[5].variables", "rows[6].template", "rows[7].variables"],
            bad.FieldViolations.Select(v => v.Field).Order(StringComparer.Ordinal).ToArray());
        Assert.Contains(bad.FieldViolations, v => v.Field == "rows[1].variables" && v.Description.StartsWith("line 3, column 9 (variables): variables.first_name is required"));
        Assert.Contains(bad.FieldViolations, v => v.Field == "rows[3].template" && v.Description.Contains("NOT_FOUND"));

        var operation = await fixture.Transfer.ImportPostsAsync(new ImportPostsRequest { Csv = File([good]) }, user.Headers);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!operation.Done && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            operation = await fixture.Transfer.GetImportOperationAsync(new GetImportOperationRequest { Name = operation.Name }, user.Headers);
        }
        Assert.True(operation.Done && operation.Error is null, operation.ToString());
        var post = Assert.Single((await fixture.Posts.ListPostsAsync(new ListPostsRequest(), user.Headers)).Posts);
        Assert.Equal("Hi Ana! 12.50% off until 24/12/2026.", post.Content.Text);
    }

    [Fact]
    public async Task A_templates_variants_are_checked_against_their_platforms_rules_when_it_is_saved()
    {
        var user = fixture.NewUser();
        var template = Greeting();
        template.Variants.Clear();
        template.Variants.Add(new TemplateVariant
        {
            Platform = Platform.Instagram,
            Content = new Content { Text = "Hi {{first_name}}", Media = { new Media { Type = MediaType.Document, Url = "https://example.com/menu.pdf" } } },
        });
        template.Variants.Add(new TemplateVariant
        {
            Platform = Platform.Whatsapp,
            Content = new Content { Text = "Listen, {{first_name}}", Media = { new Media { Type = MediaType.Audio, Url = "https://example.com/hi.ogg" } } },
        });

        var bad = await Expect.BadFields(() => fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = template }, user.Headers).ResponseAsync,
            "template.variants[0].content.media[0].type", "template.variants[1].content.text");
        Assert.Equal(2, bad.FieldViolations.Count);

        template.Variants[0].Content.Media[0].Type = MediaType.Image;
        template.Variants[1].Content.Text = "";
        var created = await fixture.Templates.CreateTemplateAsync(new CreateTemplateRequest { Template = template }, user.Headers);
        var refused = await Expect.BadFields(() => fixture.Templates.UpdateTemplateAsync(new UpdateTemplateRequest
        {
            Template = new Template
            {
                Id = created.Id, Etag = created.Etag,
                Variants = { new TemplateVariant { Platform = Platform.Instagram, Content = new Content { Text = "No picture" } } },
            },
            UpdateMask = new Google.Protobuf.WellKnownTypes.FieldMask { Paths = { "variants" } },
        }, user.Headers).ResponseAsync, "template.variants[0].content.media");
        Assert.Equal("Instagram posts need at least one image or video", Assert.Single(refused.FieldViolations).Description);
    }
}
