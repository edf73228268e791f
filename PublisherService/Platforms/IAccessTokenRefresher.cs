using SocialSync.Posts.V1;

namespace SocialSync.PublisherService.Platforms;

/// <summary>
/// A platform whose access tokens can be exchanged for fresh ones before they expire, registered with
/// <see cref="TokenRefreshRegistration.AddTokenRefresher{TRefresher}"/>. A platform without one (WhatsApp: system-user
/// tokens have no refresh) gets its channels marked expiring in time instead.
/// </summary>
public interface IAccessTokenRefresher
{
    Platform Platform { get; }

    /// <summary>The platform's name in messages people read ("Instagram").</summary>
    string Name { get; }

    Task<TokenRefresh> RefreshAsync(string accessToken, CancellationToken cancellationToken);
}

/// <summary>What a refresh came to.</summary>
public abstract record TokenRefresh;

/// <summary>A new token, living <paramref name="ExpiresIn"/> from now.</summary>
public sealed record RefreshedToken(string AccessToken, TimeSpan ExpiresIn) : TokenRefresh;

/// <summary>No new token (the platform refused, or did not answer): <paramref name="Reason"/> says why.</summary>
public sealed record TokenNotRefreshed(string Reason) : TokenRefresh;

public static class TokenRefreshRegistration
{
    public static IServiceCollection AddTokenRefresher<TRefresher>(this IServiceCollection services) where TRefresher : class, IAccessTokenRefresher
    {
        services.AddSingleton<IAccessTokenRefresher, TRefresher>();
        return services;
    }
}
