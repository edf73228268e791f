using Npgsql;
using SocialSync.Posts.V1;
using SocialSync.PostsService.Data;

namespace SocialSync.PostsService.Tests;

/// <summary>
/// A group commit writes several users' creates with one channel read and one INSERT under the row-level security
/// policies of migration 0028 (app.batch_user_ids). These tests run its statements as the API's database role, the
/// way <see cref="CreatePostBatcher"/> does, and show that a user of a group commit neither writes into nor reads from
/// a workspace that only another user of the same group commit belongs to.
/// </summary>
[Collection(PostsServiceCollection.Name)]
public sealed class GroupCommitIsolationTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task The_channel_read_pairs_each_channel_only_with_the_users_of_its_workspace()
    {
        var a = fixture.NewUser();
        var b = fixture.NewUser();
        var channelA = Guid.Parse((await fixture.CreateWhatsAppChannelAsync(a)).Id);
        var channelB = Guid.Parse((await fixture.CreateWhatsAppChannelAsync(b)).Id);

        await using var connection = await OpenAppConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Each user asks for both channels, in one group commit.
        var channels = await PostInserts.LoadChannelsAsync(connection, transaction, [(a.Id, [channelA, channelB]), (b.Id, [channelB, channelA])],
            CancellationToken.None);

        Assert.Equal([channelA], channels[0].Keys);
        Assert.Equal([channelB], channels[1].Keys);
        Assert.Equal(WorkspaceRole.Owner, channels[0][channelA].CallerRole);
    }

    [Fact]
    public async Task A_post_written_for_one_user_of_a_group_commit_into_anothers_workspace_is_refused_by_the_policy()
    {
        var a = fixture.NewUser();
        var b = fixture.NewUser();
        await fixture.CreateWhatsAppChannelAsync(a);
        var channelB = Guid.Parse((await fixture.CreateWhatsAppChannelAsync(b)).Id);

        await using var connection = await OpenAppConnectionAsync();
        // b writing into b's own workspace passes: the statement itself is sound.
        await using (var transaction = await BeginGroupCommitAsync(connection, a, b))
        {
            await InsertAsync(connection, transaction, author: b.Id, workspace: b.Id, channelB, "queued", needsApproval: false);
        }
        // a, in the same group commit, cannot write a post into b's workspace.
        await using (var transaction = await BeginGroupCommitAsync(connection, a, b))
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(
                () => InsertAsync(connection, transaction, author: a.Id, workspace: b.Id, channelB, "queued", needsApproval: false));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
        // Nor can a user outside the group commit be named as a post's author.
        var outsider = fixture.NewUser();
        await using (var transaction = await BeginGroupCommitAsync(connection, a, b))
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(
                () => InsertAsync(connection, transaction, author: outsider.Id, workspace: b.Id, channelB, "queued", needsApproval: false));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
    }

    [Fact]
    public async Task A_group_commit_sees_only_its_own_users_posts_in_their_own_workspaces()
    {
        var a = fixture.NewUser();
        var b = fixture.NewUser();
        var c = fixture.NewUser();
        await fixture.CreatePostAsync(a, await fixture.CreateWhatsAppChannelAsync(a));
        await fixture.CreatePostAsync(b, await fixture.CreateWhatsAppChannelAsync(b));
        await fixture.CreatePostAsync(c, await fixture.CreateWhatsAppChannelAsync(c));

        await using var connection = await OpenAppConnectionAsync();
        await using var transaction = await BeginGroupCommitAsync(connection, a, b);
        await using var query = new NpgsqlCommand("select user_id from scheduled_posts", connection, transaction);
        var authors = new List<Guid>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                authors.Add(reader.GetGuid(0));
            }
        }

        Assert.Equal(new[] { a.Id, b.Id }.Order(), authors.Order());
    }

    [Fact]
    public async Task A_contributor_in_a_group_commit_writes_only_posts_that_wait_for_approval()
    {
        var owner = fixture.NewUser();
        var workspace = await fixture.Workspaces.CreateWorkspaceAsync(new CreateWorkspaceRequest { Name = "Group commit" }, owner.Headers);
        var channel = Guid.Parse((await fixture.CreateWhatsAppChannelAsync(owner, workspace: workspace)).Id);
        var contributor = await fixture.JoinAsync(owner, workspace, WorkspaceRole.Contributor);

        await using var connection = await OpenAppConnectionAsync();
        await using (var transaction = await BeginGroupCommitAsync(connection, contributor, owner))
        {
            await InsertAsync(connection, transaction, contributor.Id, Guid.Parse(workspace.Id), channel, "pending_approval", needsApproval: true);
        }
        await using (var transaction = await BeginGroupCommitAsync(connection, contributor, owner))
        {
            var denied = await Assert.ThrowsAsync<PostgresException>(
                () => InsertAsync(connection, transaction, contributor.Id, Guid.Parse(workspace.Id), channel, "queued", needsApproval: false));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
        }
    }

    [Fact]
    public async Task Without_group_commit_users_the_group_commit_policies_admit_nothing()
    {
        var a = fixture.NewUser();
        var channel = Guid.Parse((await fixture.CreateWhatsAppChannelAsync(a)).Id);
        await fixture.CreatePostAsync(a, await fixture.CreateWhatsAppChannelAsync(a));

        await using var connection = await OpenAppConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var count = new NpgsqlCommand("select (select count(*) from scheduled_posts) + (select count(*) from channels)", connection, transaction);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
        var denied = await Assert.ThrowsAsync<PostgresException>(
            () => InsertAsync(connection, transaction, a.Id, a.Id, channel, "queued", needsApproval: false));
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }

    private async Task<NpgsqlConnection> OpenAppConnectionAsync()
    {
        var connection = new NpgsqlConnection(fixture.AppConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<NpgsqlTransaction> BeginGroupCommitAsync(NpgsqlConnection connection, params TestUser[] users)
    {
        var transaction = await connection.BeginTransactionAsync();
        await using var set = new NpgsqlCommand("select set_config('app.batch_user_ids', @users, true)", connection, transaction);
        set.Parameters.AddWithValue("users", "{" + string.Join(',', users.Select(u => u.Id)) + "}");
        await set.ExecuteNonQueryAsync();
        return transaction;
    }

    private static async Task InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid author, Guid workspace, Guid channel,
        string status, bool needsApproval)
    {
        await using var insert = new NpgsqlCommand("""
            insert into scheduled_posts (user_id, workspace_id, channel_id, platform, content_json, publish_at, due_at, status, needs_approval)
            values (@author, @workspace, @channel, 'whatsapp', '{"text":"group commit"}', now() + interval '1 hour', now() + interval '1 hour', @status, @needs)
            returning id
            """, connection, transaction);
        insert.Parameters.AddWithValue("author", author);
        insert.Parameters.AddWithValue("workspace", workspace);
        insert.Parameters.AddWithValue("channel", channel);
        insert.Parameters.AddWithValue("status", status);
        insert.Parameters.AddWithValue("needs", needsApproval);
        await insert.ExecuteScalarAsync();
    }
}
