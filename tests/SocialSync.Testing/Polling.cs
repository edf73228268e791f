namespace SocialSync.Testing;

public static class Polling
{
    /// <summary>Re-evaluates <paramref name="probe"/> until it returns a value that satisfies <paramref name="done"/>, or fails with the last value.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}; last value: {last}");
            }
            await Task.Delay(100);
        }
    }
}
