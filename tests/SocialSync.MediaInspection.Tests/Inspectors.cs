using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SocialSync.MediaInspection.Tests;

public static class Inspectors
{
    /// <summary>An inspector whose allow-list is <paramref name="allowedHosts"/> (none: the loopback media server is refused).</summary>
    public static MediaInspector Create(params string[] allowedHosts) =>
        new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddMediaInspector(o => o.AllowedHosts = [.. allowedHosts])
            .BuildServiceProvider()
            .GetRequiredService<MediaInspector>();
}
