using System.Net;
using System.Net.Sockets;

namespace SocialSync.Testing;

public static class Ports
{
    // Below the kernel's ephemeral range (32768-60999): a port the OS hands out for port 0 can be taken a moment later
    // by some process's outgoing connection, before the service meant to listen on it has bound it.
    private const int FirstPort = 21000;
    private const int LastPort = 32000;

    // The suites run side by side (CI runs the test projects in parallel), and a port is chosen when a fixture is built,
    // often seconds before the process meant to listen on it starts. Being free at that moment did not keep another
    // suite from choosing it too: CI once saw PostsService fail with "address already in use". So every port chosen
    // is also claimed, by a file only one process can create, for longer than any fixture takes to start.
    private static readonly string ClaimDirectory = Path.Combine(Path.GetTempPath(), $"socialsync-test-ports-{Environment.UserName}");
    private static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(15);
    private static readonly HashSet<int> ChosenHere = [];

    /// <summary>A loopback port free right now, outside the ephemeral range, and not chosen by any other test run recently.</summary>
    public static int Free()
    {
        Directory.CreateDirectory(ClaimDirectory);
        for (var attempt = 0; attempt < 1000; attempt++)
        {
            var port = Random.Shared.Next(FirstPort, LastPort);
            lock (ChosenHere)
            {
                if (ChosenHere.Contains(port) || !TryClaim(port))
                {
                    continue;
                }
                try
                {
                    using var listener = new TcpListener(IPAddress.Loopback, port);
                    listener.Start();
                    ChosenHere.Add(port);
                    return port;
                }
                catch (SocketException)
                {
                }
            }
        }
        throw new InvalidOperationException($"No free loopback port between {FirstPort} and {LastPort}.");
    }

    /// <summary>Renews this run's claim on a port it chose, before a process (re)binds it.</summary>
    public static void Renew(int port)
    {
        var claim = ClaimPath(port);
        if (File.Exists(claim))
        {
            File.SetLastWriteTimeUtc(claim, DateTime.UtcNow);
        }
    }

    private static string ClaimPath(int port) => Path.Combine(ClaimDirectory, port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static bool TryClaim(int port)
    {
        var claim = ClaimPath(port);
        try
        {
            using (new FileStream(claim, FileMode.CreateNew, FileAccess.Write))
            {
            }
            return true;
        }
        catch (IOException) when (File.Exists(claim))
        {
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(claim) < ClaimLifetime)
            {
                return false;
            }
            // A stale claim (its run has long finished or died): moving it aside succeeds for one process only.
            try
            {
                File.Move(claim, $"{claim}.{Environment.ProcessId}.{Guid.NewGuid():N}.stale");
            }
            catch (IOException)
            {
                return false;
            }
            foreach (var stale in Directory.EnumerateFiles(ClaimDirectory, $"{Path.GetFileName(claim)}.*.stale"))
            {
                File.Delete(stale);
            }
            return TryClaim(port);
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<bool>? stillRunning = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (stillRunning is not null && !stillRunning())
            {
                throw new InvalidOperationException($"The process meant to listen on {port} exited.");
            }
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        throw new TimeoutException($"Nothing listened on port {port} within {timeout}.");
    }
}
