using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Npgsql;
using NpgsqlTypes;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Domain;

namespace SocialSync.PostsService.Data;

/// <summary>A template's fields that an update replaces (those of its mask).</summary>
public sealed record TemplateEdit(Guid Id, int? Etag, Template Sent, IReadOnlySet<string> Paths)
{
    public static readonly string[] Updatable = ["name", "description", "variables", "content", "variants"];
}

/// <summary>What posts made from templates need: the templates asked for and the channels they are made on, as the caller sees them.</summary>
public sealed record TemplateSources(IReadOnlyDictionary<Guid, Template> Templates, IReadOnlyDictionary<Guid, PostingChannel> Channels)
{
    /// <summary>
    /// The content of a post made from template <paramref name="templateId"/> on channel <paramref name="channelId"/>:
    /// the variant of the channel's platform (the template's content when the caller sees no such channel, whose
    /// create then fails as any create on it does). Null when the caller sees no such template. A template of another
    /// workspace than the channel's is named as <paramref name="templateField"/>, bad values under
    /// <paramref name="variablesField"/>.
    /// </summary>
    public Content? Render(Guid templateId, Guid? channelId, IReadOnlyDictionary<string, string> values, string templateField, string variablesField,
        FieldViolations violations)
    {
        if (!Templates.TryGetValue(templateId, out var template))
        {
            return null;
        }
        var channel = channelId is { } id ? Channels.GetValueOrDefault(id) : null;
        if (channel is not null && template.WorkspaceId != channel.Channel.WorkspaceId)
        {
            violations.Add(templateField, "belongs to another workspace than the channel: use a template of the channel's workspace");
        }
        return TemplateText.Render(template, channel?.Channel.Platform ?? Platform.Unspecified, values, variablesField, violations);
    }
}

/// <summary>
/// The templates of the caller's workspaces (migration 0022_templates.sql), under row-level security: another
/// workspace's template is absent (null, for the caller to answer NOT_FOUND). Writes need
/// <see cref="WorkspaceRoles.WriteTemplates"/>, checked first so a role too low is told apart from a missing row.
/// </summary>
public sealed class TemplateStore(PostsDatabase database)
{
    private const string Columns = "id, workspace_id, name, description, definition::text, created_by, created_at, updated_at, version";

    /// <summary>
    /// Adds a template to its workspace (the caller's personal one, made now if need be, when none is named); null
    /// when the caller is not a member of the workspace named.
    /// </summary>
    public Task<Template?> CreateAsync(Guid userId, Guid? workspaceId, Template template, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<Template?>(userId, async (connection, transaction) =>
        {
            if (await WorkspaceAccess.RequireTargetAsync(connection, transaction, userId, workspaceId, WorkspaceRoles.WriteTemplates, "write templates", cancellationToken)
                is not { } workspace)
            {
                return null;
            }
            await using var insert = new NpgsqlCommand($"""
                insert into templates (workspace_id, name, description, definition, created_by)
                values (@workspace, @name, @description, @definition::jsonb, @user)
                returning {Columns}
                """, connection, transaction);
            insert.Parameters.AddWithValue("workspace", workspace);
            insert.Parameters.AddWithValue("name", template.Name.Trim());
            insert.Parameters.AddWithValue("description", template.Description);
            insert.Parameters.AddWithValue("definition", WriteDefinition(template));
            insert.Parameters.AddWithValue("user", userId);
            return await ReadSingleAsync(insert, cancellationToken);
        }, cancellationToken);

    public Task<Template?> GetAsync(Guid userId, Guid id, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, (connection, transaction) => LoadAsync(connection, transaction, id, cancellationToken),
            cancellationToken);

    /// <summary>The templates of the caller's workspaces (or of one of them), by name.</summary>
    public Task<Page<Template>> ListAsync(Guid userId, Guid? workspaceId, int pageSize, int offset, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            // No membership filter here: row-level security limits the rows to the caller's workspaces.
            await using var query = new NpgsqlCommand($"""
                select {Columns} from templates
                where @workspace::uuid is null or workspace_id = @workspace
                order by name, id limit @limit offset @offset
                """, connection, transaction);
            query.Parameters.Add(new NpgsqlParameter("workspace", NpgsqlDbType.Uuid) { Value = (object?)workspaceId ?? DBNull.Value });
            query.Parameters.AddWithValue("limit", pageSize + 1);
            query.Parameters.AddWithValue("offset", offset);
            return await Page<Template>.ReadAsync(query, pageSize, Read, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Replaces the fields of <paramref name="edit"/>'s mask, after <paramref name="check"/> accepts the template as
    /// it would be (its content may name variables the same update declares). Null when the caller cannot see it;
    /// ABORTED when the etag is stale.
    /// </summary>
    public Task<Template?> UpdateAsync(Guid userId, TemplateEdit edit, Action<Template> check, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync<Template?>(userId, async (connection, transaction) =>
        {
            if (await LoadWritableAsync(connection, transaction, edit.Id, edit.Etag, "change templates", cancellationToken) is not { } current)
            {
                return null;
            }
            var changed = current.Clone();
            foreach (var path in edit.Paths)
            {
                switch (path)
                {
                    case "name": changed.Name = edit.Sent.Name; break;
                    case "description": changed.Description = edit.Sent.Description; break;
                    case "variables": changed.Variables.Clear(); changed.Variables.Add(edit.Sent.Variables); break;
                    case "content": changed.Content = edit.Sent.Content; break;
                    case "variants": changed.Variants.Clear(); changed.Variants.Add(edit.Sent.Variants); break;
                }
            }
            check(changed);
            await using var update = new NpgsqlCommand($"""
                update templates set name = @name, description = @description, definition = @definition::jsonb
                where id = @id and version = @version returning {Columns}
                """, connection, transaction);
            update.Parameters.AddWithValue("id", edit.Id);
            update.Parameters.AddWithValue("version", int.Parse(current.Etag, System.Globalization.CultureInfo.InvariantCulture));
            update.Parameters.AddWithValue("name", changed.Name.Trim());
            update.Parameters.AddWithValue("description", changed.Description);
            update.Parameters.AddWithValue("definition", WriteDefinition(changed));
            return await ReadSingleAsync(update, cancellationToken) ?? throw ConcurrentChangeException.StaleEtag("template");
        }, cancellationToken);

    /// <summary>Deletes a template; false when the caller cannot see it, ABORTED when the etag is stale.</summary>
    public Task<bool> DeleteAsync(Guid userId, Guid id, int? etag, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            if (await LoadWritableAsync(connection, transaction, id, etag, "delete templates", cancellationToken) is not { } current)
            {
                return false;
            }
            await using var delete = new NpgsqlCommand("delete from templates where id = @id and version = @version", connection, transaction);
            delete.Parameters.AddWithValue("id", id);
            delete.Parameters.AddWithValue("version", int.Parse(current.Etag, System.Globalization.CultureInfo.InvariantCulture));
            return await delete.ExecuteNonQueryAsync(cancellationToken) == 1 ? true : throw ConcurrentChangeException.StaleEtag("template");
        }, cancellationToken);

    /// <summary>
    /// The templates and the live channels among the ids given that the caller sees (the others are absent), for
    /// rendering posts before they are created through the create path of every post.
    /// </summary>
    public Task<TemplateSources> LoadSourcesAsync(Guid userId, Guid[] templateIds, Guid[] channelIds, CancellationToken cancellationToken) =>
        database.InUserTransactionAsync(userId, async (connection, transaction) =>
        {
            var channels = (await PostInserts.LoadChannelsAsync(connection, transaction, [(userId, channelIds)], cancellationToken))[0];
            await using var query = new NpgsqlCommand($"select {Columns} from templates where id = any(@ids)", connection, transaction);
            query.Parameters.AddWithValue("ids", templateIds);
            var templates = new Dictionary<Guid, Template>();
            await using var reader = await query.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                templates[reader.GetGuid(0)] = Read(reader);
            }
            return new TemplateSources(templates, channels);
        }, cancellationToken);

    /// <summary>
    /// The template, once the caller's role in its workspace allows <paramref name="action"/> and the etag sent (if
    /// any) is its current one; null when the caller cannot see it. Read without a lock (a viewer could not take
    /// one under the update policy, and would be told NOT_FOUND instead of the role they lack): the write that
    /// follows is guarded by the version read here.
    /// </summary>
    private static async Task<Template?> LoadWritableAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, int? etag, string action,
        CancellationToken cancellationToken)
    {
        if (await LoadAsync(connection, transaction, id, cancellationToken) is not { } current)
        {
            return null;
        }
        var role = await WorkspaceAccess.RoleInAsync(connection, transaction, Guid.Parse(current.WorkspaceId), cancellationToken);
        role.Require(WorkspaceRoles.WriteTemplates, action);
        return etag is { } sent && sent.ToString(System.Globalization.CultureInfo.InvariantCulture) != current.Etag
            ? throw ConcurrentChangeException.StaleEtag("template")
            : current;
    }

    private static async Task<Template?> LoadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, CancellationToken cancellationToken)
    {
        await using var query = new NpgsqlCommand($"select {Columns} from templates where id = @id", connection, transaction);
        query.Parameters.AddWithValue("id", id);
        return await ReadSingleAsync(query, cancellationToken);
    }

    private static async Task<Template?> ReadSingleAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>The definition column: the protobuf JSON of the template's variables, content and variants only.</summary>
    private static string WriteDefinition(Template template) => JsonFormatter.Default.Format(new Template
    {
        Variables = { template.Variables },
        Content = template.Content,
        Variants = { template.Variants },
    });

    private static Template Read(NpgsqlDataReader reader)
    {
        var template = JsonParser.Default.Parse<Template>(reader.GetString(4));
        template.Id = reader.GetGuid(0).ToString();
        template.WorkspaceId = reader.GetGuid(1).ToString();
        template.Name = reader.GetString(2);
        template.Description = reader.GetString(3);
        template.CreatedBy = reader.GetGuid(5).ToString();
        template.CreateTime = Timestamp.FromDateTime(DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc));
        template.UpdateTime = Timestamp.FromDateTime(DateTime.SpecifyKind(reader.GetDateTime(7), DateTimeKind.Utc));
        template.Etag = reader.GetInt32(8).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return template;
    }
}
