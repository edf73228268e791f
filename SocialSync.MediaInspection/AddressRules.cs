using System.Net;
using System.Net.Sockets;

namespace SocialSync.MediaInspection;

/// <summary>
/// Which addresses a media fetch may connect to: never one inside the network PostsService runs in (loopback,
/// private, link-local, unique-local, multicast, the cloud metadata address and the other special ranges), so a
/// post's media URL cannot be used to read internal services (SSRF).
/// </summary>
public static class AddressRules
{
    private static readonly IPNetwork[] Internal =
    [
        IPNetwork.Parse("0.0.0.0/8"),        // "this" network
        IPNetwork.Parse("10.0.0.0/8"),       // private
        IPNetwork.Parse("100.64.0.0/10"),    // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),      // loopback
        IPNetwork.Parse("169.254.0.0/16"),   // link-local, cloud metadata (169.254.169.254)
        IPNetwork.Parse("172.16.0.0/12"),    // private
        IPNetwork.Parse("192.0.0.0/24"),     // IETF protocol assignments
        IPNetwork.Parse("192.0.2.0/24"),     // documentation
        IPNetwork.Parse("192.88.99.0/24"),   // 6to4 relay
        IPNetwork.Parse("192.168.0.0/16"),   // private
        IPNetwork.Parse("198.18.0.0/15"),    // benchmarking
        IPNetwork.Parse("198.51.100.0/24"),  // documentation
        IPNetwork.Parse("203.0.113.0/24"),   // documentation
        IPNetwork.Parse("224.0.0.0/4"),      // multicast
        IPNetwork.Parse("240.0.0.0/4"),      // reserved, broadcast
        IPNetwork.Parse("::/128"),           // unspecified
        IPNetwork.Parse("::1/128"),          // loopback
        IPNetwork.Parse("64:ff9b::/96"),     // NAT64: embeds an IPv4 address
        IPNetwork.Parse("64:ff9b:1::/48"),   // local NAT64
        IPNetwork.Parse("100::/64"),         // discard
        IPNetwork.Parse("2001::/23"),        // IETF protocol assignments (Teredo included)
        IPNetwork.Parse("2001:db8::/32"),    // documentation
        IPNetwork.Parse("2002::/16"),        // 6to4: embeds an IPv4 address
        IPNetwork.Parse("fc00::/7"),         // unique-local
        IPNetwork.Parse("fe80::/10"),        // link-local
        IPNetwork.Parse("fec0::/10"),        // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),         // multicast
    ];

    /// <summary>Whether <paramref name="address"/> is internal; an IPv4-mapped IPv6 address is judged as its IPv4 address.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        else if (address.AddressFamily == AddressFamily.InterNetworkV6 && IsIPv4Compatible(address))
        {
            // ::a.b.c.d (deprecated IPv4-compatible form) reaches the IPv4 address on some stacks.
            return true;
        }
        return Internal.Any(n => n.Contains(address));
    }

    private static bool IsIPv4Compatible(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0;
    }
}
