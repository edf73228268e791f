using OpenIddict.Abstractions;

namespace SocialSync.Identity.Extensions;

/// <summary>Every hour, removes the tokens and authorizations that can no longer be used (expired, redeemed, revoked) and are a day old.</summary>
public sealed partial class TokenPruning(IServiceScopeFactory scopes, TimeProvider time, ILogger<TokenPruning> log) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan MinimumAge = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var threshold = time.GetUtcNow() - MinimumAge;
                var tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, stoppingToken);
                var authorizations = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, stoppingToken);
                LogPruned(tokens, authorizations);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogPruneFailed(ex);
            }
        }
    }

    [LoggerMessage(401, LogLevel.Information, "Pruned {Tokens} tokens and {Authorizations} authorizations")]
    private partial void LogPruned(long tokens, long authorizations);

    [LoggerMessage(402, LogLevel.Warning, "Pruning tokens failed; the next round tries again")]
    private partial void LogPruneFailed(Exception ex);
}
