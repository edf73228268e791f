using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;
using SocialSync.Testing;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// Channel tokens over their lifetime, against the emulator's token rules (60-day tokens, refreshed only once a day
/// old and before they expire) and PostgreSQL; the refresher looks every half second here.
/// </summary>
[Collection(ShortLeaseSystem.Name)]
public sealed class TokenLifetimeTests(ShortLeaseSystemFixture fixture)
{
    private static readonly TimeSpan Days = TimeSpan.FromDays(1);
    private SocialSyncSystem System => fixture.System;

    [Fact]
    public async Task An_instagram_token_near_its_expiry_is_refreshed_and_the_new_token_and_expiry_are_stored()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        var oldToken = $"IGQ-near-expiry-{Guid.NewGuid():N}";
        await RegisterTokenAsync(oldToken, age: 58 * Days, expiresIn: 2 * Days);

        var channel = await CreateChannelAsync(user, Platform.Instagram, account, oldToken, expiresIn: 2 * Days);
        Assert.Equal(DateTimeOffset.UtcNow + 2 * Days, channel.AccessTokenExpireTime.ToDateTimeOffset(), TimeSpan.FromMinutes(1));

        var refreshed = await Polling.UntilAsync(() => user.ChannelStateAsync(channel),
            c => c.AccessTokenExpireTime.ToDateTimeOffset() > DateTimeOffset.UtcNow + 30 * Days, TimeSpan.FromSeconds(30), "the token to be refreshed");

        Assert.Equal(DateTimeOffset.UtcNow + 60 * Days, refreshed.AccessTokenExpireTime.ToDateTimeOffset(), TimeSpan.FromMinutes(5));
        Assert.Equal(ChannelState.Active, refreshed.State);
        var post = await user.FinishedAsync(await user.PostAsync(channel, "with the new token", (MediaType.Image, "https://cdn.test/photo.jpg")));
        Assert.Equal(PostStatus.Published, post.Status);
        var usedToken = (await user.RequestsAsync(account, "ig_publish"))[0].GetProperty("token").GetString()!;
        Assert.NotEqual(oldToken, usedToken);
        var known = await System.Emulator.Http.GetFromJsonAsync<JsonElement>($"/__emu/tokens/{usedToken}");
        Assert.Equal(refreshed.AccessTokenExpireTime.ToDateTimeOffset(), known.GetProperty("expires_at").GetDateTimeOffset(), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_refused_refresh_marks_the_channel_expiring_and_a_reconnect_clears_it()
    {
        var user = new TestUser(System);
        var account = TestUser.NewInstagramId();
        // Meta refreshes no token under a day old: this one is refused every time.
        var token = $"IGQ-refused-{Guid.NewGuid():N}";
        await RegisterTokenAsync(token, age: TimeSpan.FromHours(1), expiresIn: 3 * Days);
        var channel = await CreateChannelAsync(user, Platform.Instagram, account, token, expiresIn: 3 * Days);

        var expiring = await Polling.UntilAsync(() => user.ChannelStateAsync(channel), c => c.State == ChannelState.Expiring,
            TimeSpan.FromSeconds(30), "the channel to be marked expiring");

        Assert.Contains("could not be refreshed", expiring.StateReason, StringComparison.Ordinal);
        Assert.Contains("Reconnect", expiring.StateReason, StringComparison.Ordinal);
        var published = await user.FinishedAsync(await user.PostAsync(channel, "still publishes", (MediaType.Image, "https://cdn.test/photo.jpg")));
        Assert.Equal(PostStatus.Published, published.Status);

        var reconnected = await System.ChannelClient.UpdateChannelAsync(new UpdateChannelRequest
        {
            Id = channel.Id,
            AccessToken = $"IGQ-reconnected-{Guid.NewGuid():N}",
            AccessTokenExpiresIn = (long)(60 * Days).TotalSeconds,
        }, user.Auth);

        Assert.Equal((ChannelState.Active, ""), (reconnected.State, reconnected.StateReason));
        Assert.Equal(DateTimeOffset.UtcNow + 60 * Days, reconnected.AccessTokenExpireTime.ToDateTimeOffset(), TimeSpan.FromMinutes(1));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(ChannelState.Active, (await user.ChannelStateAsync(channel)).State);
    }

    [Fact]
    public async Task A_whatsapp_token_which_has_no_refresh_marks_its_channel_expiring_only_within_the_notice()
    {
        var user = new TestUser(System);
        var soonToken = $"EAAG-soon-{Guid.NewGuid():N}";
        var soon = await CreateChannelAsync(user, Platform.Whatsapp, TestUser.NewPhoneNumberId(), soonToken, expiresIn: 5 * Days);
        var later = await CreateChannelAsync(user, Platform.Whatsapp, TestUser.NewPhoneNumberId(), $"EAAG-later-{Guid.NewGuid():N}", expiresIn: 9 * Days);
        var never = await CreateChannelAsync(user, Platform.Whatsapp, TestUser.NewPhoneNumberId(), "EAAG-system-user", expiresIn: TimeSpan.Zero);

        var expiring = await Polling.UntilAsync(() => user.ChannelStateAsync(soon), c => c.State == ChannelState.Expiring,
            TimeSpan.FromSeconds(30), "the channel to be marked expiring");

        Assert.Contains("cannot be refreshed", expiring.StateReason, StringComparison.Ordinal);
        Assert.Equal(ChannelState.Active, (await user.ChannelStateAsync(later)).State);
        var system = await user.ChannelStateAsync(never);
        Assert.Equal(ChannelState.Active, system.State);
        Assert.Null(system.AccessTokenExpireTime);
        var refreshes = await System.Emulator.Http.GetFromJsonAsync<JsonElement>("/__emu/requests?operation=token_refresh");
        Assert.DoesNotContain(refreshes.GetProperty("data").EnumerateArray(), r => r.GetProperty("token").GetString() == soonToken);
    }

    private async Task<Channel> CreateChannelAsync(TestUser user, Platform platform, string account, string token, TimeSpan expiresIn) =>
        await System.ChannelClient.CreateChannelAsync(new CreateChannelRequest
        {
            Platform = platform,
            AccountId = account,
            AccessToken = token,
            DisplayName = $"test {account}",
            Settings = platform == Platform.Whatsapp
                ? new ChannelSettings { Recipients = { "+16505551234" } }
                : new ChannelSettings { InstagramMode = InstagramMode.Feed },
            AccessTokenExpiresIn = (long)expiresIn.TotalSeconds,
        }, user.Auth);

    private async Task RegisterTokenAsync(string token, TimeSpan age, TimeSpan expiresIn)
    {
        using var response = await System.Emulator.Http.PutAsJsonAsync($"/__emu/tokens/{token}",
            new { ageSeconds = age.TotalSeconds, expiresInSeconds = expiresIn.TotalSeconds });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
