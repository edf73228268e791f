using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms;

/// <summary>The platforms this service publishes to: one publisher per platform, from the AddPlatform registrations.</summary>
public sealed class PlatformRegistry
{
    private readonly Dictionary<Platform, IPlatformPublisher> _byPlatform = [];

    public PlatformRegistry(IEnumerable<IPlatformPublisher> publishers)
    {
        foreach (var publisher in publishers)
        {
            if (!_byPlatform.TryAdd(publisher.Platform, publisher))
            {
                throw new InvalidOperationException(
                    $"{_byPlatform[publisher.Platform].GetType().Name} and {publisher.GetType().Name} are both registered for {publisher.Platform}; a platform has one publisher.");
            }
        }
    }

    public bool TryGet(Platform platform, [NotNullWhen(true)] out IPlatformPublisher? publisher) =>
        _byPlatform.TryGetValue(platform, out publisher);
}

public static class PlatformRegistration
{
    /// <summary>Adds a platform: posts whose channel is on <typeparamref name="TPublisher"/>'s platform go to it.</summary>
    public static IServiceCollection AddPlatform<TPublisher>(this IServiceCollection services) where TPublisher : class, IPlatformPublisher
    {
        services.TryAddSingleton<PlatformRegistry>();
        services.AddSingleton<IPlatformPublisher, TPublisher>();
        return services;
    }
}
