using System.Text;
using Grpc.Core;
using SocialSync.Posts.V1;

namespace SocialSync.PostsService.Tests;

[Collection(PostsServiceCollection.Name)]
public sealed class ChannelsApiTests(PostsServiceFixture fixture)
{
    [Fact]
    public async Task A_channel_token_is_stored_encrypted_and_never_returned()
    {
        var user = fixture.NewUser();
        var secret = "EAAG-plaintext-" + Guid.NewGuid().ToString("N");
        var channel = await fixture.CreateWhatsAppChannelAsync(user, secret);
        var read = await fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, user.Headers);
        var listed = await fixture.Channels.ListChannelsAsync(new ListChannelsRequest(), user.Headers);
        Assert.DoesNotContain(secret, channel.ToString());
        Assert.DoesNotContain(secret, read.ToString());
        Assert.DoesNotContain(secret, listed.ToString());

        var stored = (byte[])(await fixture.OwnerScalarAsync("select access_token_encrypted from channels where id = @id", ("id", Guid.Parse(channel.Id))))!;
        Assert.True(stored.Length > secret.Length, "the stored token carries a nonce and a tag");
        Assert.DoesNotContain(secret, Encoding.UTF8.GetString(stored));
        Assert.DoesNotContain(secret, Convert.ToHexString(stored), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.UTF8.GetBytes(secret)), Convert.ToHexString(stored));
    }

    [Fact]
    public async Task CreateChannel_names_every_bad_field()
    {
        var user = fixture.NewUser();
        await Expect.BadFields(() => fixture.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Unspecified,
            AccountId = "",
            AccessToken = "",
            DisplayName = new string('n', 201),
        }, user.Headers).ResponseAsync, "platform", "account_id", "access_token", "display_name");
        await Expect.BadFields(() => fixture.Channels.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = Platform.Whatsapp,
            AccountId = "123",
            AccessToken = "t",
            Settings = new ChannelSettings { Recipients = { "call me" } },
        }, user.Headers).ResponseAsync, "settings.recipients[0]");
    }

    [Fact]
    public async Task Channels_are_listed_and_read_only_by_their_owner()
    {
        var owner = fixture.NewUser();
        var other = fixture.NewUser();
        var mine = await fixture.CreateWhatsAppChannelAsync(owner);
        var theirs = await fixture.CreateInstagramChannelAsync(other);
        var listed = await fixture.Channels.ListChannelsAsync(new ListChannelsRequest(), owner.Headers);
        Assert.Equal([mine.Id], listed.Channels.Select(c => c.Id));
        var byPlatform = await fixture.Channels.ListChannelsAsync(new ListChannelsRequest { PlatformFilter = Platform.Instagram }, owner.Headers);
        Assert.Empty(byPlatform.Channels);
        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = theirs.Id }, owner.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.UpdateChannelAsync(
            new UpdateChannelRequest { Id = theirs.Id, DisplayName = "stolen" }, owner.Headers).ResponseAsync);
        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = theirs.Id }, owner.Headers).ResponseAsync);
        var still = await fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = theirs.Id }, other.Headers);
        Assert.Equal(theirs.DisplayName, still.DisplayName);
    }

    [Fact]
    public async Task UpdateChannel_rotates_the_token_changes_settings_pauses_and_resumes()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var id = Guid.Parse(channel.Id);
        var tokenBefore = (byte[])(await fixture.OwnerScalarAsync("select access_token_encrypted from channels where id = @id", ("id", id)))!;

        var renamed = await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest
        {
            Id = channel.Id,
            DisplayName = "Shop 2",
            Settings = new ChannelSettings { Recipients = { "+447700900123", "+16505550000" } },
            Etag = channel.Etag,
        }, user.Headers);
        Assert.Equal("Shop 2", renamed.DisplayName);
        Assert.Equal(["+447700900123", "+16505550000"], renamed.Settings.Recipients);
        Assert.Equal(ChannelState.Active, renamed.State);
        await Expect.Status(StatusCode.Aborted, () => fixture.Channels.UpdateChannelAsync(
            new UpdateChannelRequest { Id = channel.Id, DisplayName = "stale", Etag = channel.Etag }, user.Headers).ResponseAsync);
        await Expect.BadFields(() => fixture.Channels.UpdateChannelAsync(
            new UpdateChannelRequest { Id = channel.Id, Settings = new ChannelSettings() }, user.Headers).ResponseAsync, "settings.recipients");

        var paused = await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = channel.Id, Paused = true }, user.Headers);
        Assert.Equal(ChannelState.Paused, paused.State);
        var resumed = await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = channel.Id, Paused = false }, user.Headers);
        Assert.Equal(ChannelState.Active, resumed.State);
        Assert.Equal("Shop 2", resumed.DisplayName);

        // The platform rejected the token: rotating it makes the channel active again.
        await fixture.OwnerScalarAsync("update channels set state = 'needs_reconnect', state_reason = 'token expired' where id = @id", ("id", id));
        var needsReconnect = await fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, user.Headers);
        Assert.Equal(ChannelState.NeedsReconnect, needsReconnect.State);
        var rotated = await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = channel.Id, AccessToken = "EAAG-new-token" }, user.Headers);
        Assert.Equal(ChannelState.Active, rotated.State);
        Assert.Equal("", rotated.StateReason);
        var tokenAfter = (byte[])(await fixture.OwnerScalarAsync("select access_token_encrypted from channels where id = @id", ("id", id)))!;
        Assert.NotEqual(tokenBefore, tokenAfter);
        Assert.DoesNotContain("EAAG-new-token", Encoding.UTF8.GetString(tokenAfter));

        // So does resuming it.
        await fixture.OwnerScalarAsync("update channels set state = 'needs_reconnect' where id = @id", ("id", id));
        var resumedAgain = await fixture.Channels.UpdateChannelAsync(new UpdateChannelRequest { Id = channel.Id, Paused = false }, user.Headers);
        Assert.Equal(ChannelState.Active, resumedAgain.State);
    }

    [Fact]
    public async Task DeleteChannel_cancels_its_queued_posts_erases_the_token_and_keeps_the_history()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var queued = await fixture.CreatePostAsync(user, channel);
        var published = await fixture.CreatePostAsync(user, channel);
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'published', published_at = now() where id = @id", ("id", Guid.Parse(published.Id)));

        await fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = channel.Id }, user.Headers);

        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, user.Headers).ResponseAsync);
        Assert.Empty((await fixture.Channels.ListChannelsAsync(new ListChannelsRequest(), user.Headers)).Channels);
        var cancelled = await fixture.Posts.GetPostAsync(new GetPostRequest { Id = queued.Id }, user.Headers);
        Assert.Equal(PostStatus.Cancelled, cancelled.Status);
        Assert.Contains("channel was deleted", cancelled.ErrorMessage);
        Assert.Equal(PostStatus.Published, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = published.Id }, user.Headers)).Status);
        var token = (byte[])(await fixture.OwnerScalarAsync("select access_token_encrypted from channels where id = @id", ("id", Guid.Parse(channel.Id))))!;
        Assert.Empty(token);
        await Expect.Status(StatusCode.NotFound, () => fixture.CreatePostAsync(user, channel));
        await Expect.Status(StatusCode.NotFound, () => fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = channel.Id }, user.Headers).ResponseAsync);
    }

    [Fact]
    public async Task DeleteChannel_is_refused_while_a_post_is_publishing_and_changes_nothing()
    {
        var user = fixture.NewUser();
        var channel = await fixture.CreateWhatsAppChannelAsync(user);
        var queued = await fixture.CreatePostAsync(user, channel);
        var publishing = await fixture.CreatePostAsync(user, channel);
        await fixture.OwnerScalarAsync("update scheduled_posts set status = 'publishing' where id = @id", ("id", Guid.Parse(publishing.Id)));

        await Expect.Status(StatusCode.FailedPrecondition, () => fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = channel.Id }, user.Headers).ResponseAsync);

        Assert.Equal(PostStatus.Queued, (await fixture.Posts.GetPostAsync(new GetPostRequest { Id = queued.Id }, user.Headers)).Status);
        var still = await fixture.Channels.GetChannelAsync(new GetChannelRequest { Id = channel.Id }, user.Headers);
        Assert.Equal(channel.Etag, still.Etag);
        await Expect.Status(StatusCode.Aborted, () => fixture.Channels.DeleteChannelAsync(new DeleteChannelRequest { Id = channel.Id, Etag = "999" }, user.Headers).ResponseAsync);
    }
}
