using System.Net;
using System.Net.Sockets;

namespace SocialSync.Testing;

public static class Ports
{
    // Below the kernel's ephemeral range (32768-60999): a port the OS hands out for port 0 can be taken a moment later
    // by some process's outgoing connection, before the service meant to listen on it has bound it.
    private const int FirstPort = 21000;
    private const int LastPort = 32000;

    /// <summary>A loopback port free right now, outside the ephemeral range.</summary>
    public static int Free()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(FirstPort, LastPort);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException($"No free loopback port between {FirstPort} and {LastPort}.");
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
