using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SocialSync.MediaInspection;
using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Publishing;
using V1 = SocialSync.Posts.V1;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Tests;

/// <summary>
/// PostPublisher hands a post to the publisher registered with AddPlatform for its channel's platform, and to no
/// other; an attempt is that publisher's reconciliation, then, unless it settled the post, its publish. A channel the
/// platform rate-limited (as any replica found) is deferred before any platform call.
/// </summary>
public sealed class PlatformRegistrationTests
{
    // A platform the protos do not name yet, as a third platform is while it is being added.
    private const V1.Platform Telegram = (V1.Platform)3;

    [Fact]
    public async Task A_post_goes_to_the_publisher_registered_for_its_channels_platform()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>().AddPlatform<InstagramFake>());

        var outcome = await PublishAsync(services, Telegram);

        Assert.Equal(V1.OutcomeKind.Published, outcome.Kind);
        Assert.Equal("telegram-1", outcome.PlatformPostId);
        Assert.Single(Fake<TelegramFake>(services).Published);
        Assert.Empty(Fake<InstagramFake>(services).Reconciled);
        Assert.Empty(Fake<InstagramFake>(services).Published);
    }

    [Fact]
    public async Task A_post_whose_platform_has_no_registered_publisher_fails_permanently_without_a_platform_call()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());

        var outcome = await PublishAsync(services, V1.Platform.Whatsapp);

        Assert.Equal(V1.OutcomeKind.PermanentFailure, outcome.Kind);
        Assert.Equal("No publisher handles Whatsapp.", outcome.Error);
        Assert.Empty(Fake<TelegramFake>(services).Reconciled);
    }

    [Fact]
    public async Task An_account_to_reconnect_is_named_by_its_platform_publisher()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());
        Fake<TelegramFake>(services).Answer = _ => new FailedResult(ErrorClass.Auth, "the bot token was revoked", 401, null, null, null);

        var outcome = await PublishAsync(services, Telegram);

        Assert.Equal(V1.OutcomeKind.AuthFailure, outcome.Kind);
        Assert.StartsWith("The Telegram account needs to be reconnected: the bot token was revoked.", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_post_that_reconciliation_settles_is_not_published_again()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());
        var telegram = Fake<TelegramFake>(services);
        telegram.Settles = new UnconfirmedResult("Telegram cannot tell whether it went out.", "{}");

        var outcome = await PublishAsync(services, Telegram, reconcile: true);

        Assert.Equal(V1.OutcomeKind.Unconfirmed, outcome.Kind);
        Assert.True(Assert.Single(telegram.Reconciled).NeedsReconciliation);
        Assert.Empty(telegram.Published);
    }

    [Fact]
    public async Task Publishing_continues_from_the_state_that_reconciliation_left()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());
        var telegram = Fake<TelegramFake>(services);

        await PublishAsync(services, Telegram, state: """{"sent":1}""");

        Assert.Equal("""{"sent":1}""", Assert.Single(telegram.Reconciled).PlatformStateJson);
        Assert.Equal("""{"sent":1,"checked":true}""", Assert.Single(telegram.Published).PlatformStateJson);
    }

    [Fact]
    public async Task A_channel_rate_limited_as_another_replica_found_is_deferred_until_then_without_a_platform_call()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());
        var until = DateTimeOffset.UtcNow.AddMinutes(5);

        var outcome = await PublishAsync(services, Telegram, rateLimitedUntil: until);

        Assert.Equal(V1.OutcomeKind.Deferred, outcome.Kind);
        Assert.Equal(until.ToUnixTimeMilliseconds(), outcome.RetryAt.ToDateTimeOffset().ToUnixTimeMilliseconds());
        Assert.Empty(Fake<TelegramFake>(services).Published);
    }

    [Fact]
    public async Task A_rate_limited_answer_tells_PostsService_the_channel_is_limited_so_other_replicas_hold_it_too()
    {
        using var services = Services(s => s.AddPlatform<TelegramFake>());
        var retryAt = DateTimeOffset.UtcNow.AddMinutes(2);
        Fake<TelegramFake>(services).Answer = _ => new FailedResult(ErrorClass.RateLimited, "too many messages", 130429, null, retryAt, null);

        var limited = await PublishAsync(services, Telegram);
        Fake<TelegramFake>(services).Answer = _ => new FailedResult(ErrorClass.Transient, "try again", 1, null, null, null);
        var transient = await PublishAsync(services, Telegram);

        Assert.Equal(V1.OutcomeKind.Deferred, limited.Kind);
        Assert.True(limited.ChannelRateLimited);
        Assert.False(transient.ChannelRateLimited);
    }

    [Fact]
    public void Two_publishers_for_one_platform_are_refused()
    {
        using var services = Services(s => s.AddPlatform<InstagramFake>().AddPlatform<AnotherInstagramFake>());

        var refused = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<PlatformRegistry>());
        Assert.Contains("AnotherInstagramFake", refused.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Services(Action<IServiceCollection> platforms)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton(TimeProvider.System)
            // Publishing a started run never calls PostsService (StartRuns came before); the client only has to exist.
            .AddSingleton(new V1.PostsInternalService.PostsInternalServiceClient(GrpcChannel.ForAddress("http://127.0.0.1:9")))
            .AddSingleton<ChannelThrottle>()
            .AddSingleton<PublisherMetrics>()
            // Media checks are off (Media:Checks unset), as in the service by default.
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddMediaInspector()
            .AddSingleton<PostPublisher>();
        platforms(services);
        return services.BuildServiceProvider();
    }

    private static T Fake<T>(ServiceProvider services) => services.GetServices<IPlatformPublisher>().OfType<T>().Single();

    private static Task<V1.PublishOutcome> PublishAsync(ServiceProvider services, V1.Platform platform, string state = "", bool reconcile = false,
        DateTimeOffset? rateLimitedUntil = null)
    {
        var channel = new V1.ChannelAccess
        {
            ChannelId = Guid.NewGuid().ToString(),
            Platform = platform,
            AccountId = "account-1",
            AccessToken = "token",
            State = V1.ChannelState.Active,
            Settings = new V1.ChannelSettings(),
            RateLimitedUntil = rateLimitedUntil is { } until ? Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(until) : null,
        };
        var post = new V1.ClaimedPost
        {
            PostId = Guid.NewGuid().ToString(),
            Attempt = 1,
            Platform = platform,
            ChannelId = channel.ChannelId,
            Content = new V1.Content { Text = "hello" },
            NeedsReconciliation = reconcile,
            PlatformStateJson = state,
        };
        return services.GetRequiredService<PostPublisher>().PublishAsync(new PublishJob(post, channel, Guid.NewGuid().ToString()), CancellationToken.None);
    }

    /// <summary>A platform that records what it was asked; it reconciles by marking the state checked.</summary>
    private abstract class FakePlatform(V1.Platform platform, string name) : IPlatformPublisher
    {
        public V1.Platform Platform => platform;

        public string Name => name;

        public List<PublishJob> Reconciled { get; } = [];

        public List<PublishJob> Published { get; } = [];

        public PlatformResult? Settles { get; set; }

        public Func<PublishJob, PlatformResult> Answer { get; set; } = job => new PublishedResult($"{name.ToLowerInvariant()}-1", null, job.PlatformStateJson);

        public Task<Reconciliation> ReconcileAsync(PublishJob job, CancellationToken cancellationToken)
        {
            Reconciled.Add(job);
            var checkedState = job.PlatformStateJson.Length > 1 ? job.PlatformStateJson[..^1] + ""","checked":true}""" : "";
            return Task.FromResult(Settles is { } result ? Reconciliation.Settled(result) : Reconciliation.Unsettled(checkedState));
        }

        public Task<PlatformResult> PublishAsync(PublishJob job, CancellationToken cancellationToken)
        {
            Published.Add(job);
            return Task.FromResult(Answer(job));
        }
    }

    private sealed class TelegramFake() : FakePlatform(Telegram, "Telegram");

    private sealed class InstagramFake() : FakePlatform(V1.Platform.Instagram, "Instagram");

    private sealed class AnotherInstagramFake() : FakePlatform(V1.Platform.Instagram, "Instagram");
}
