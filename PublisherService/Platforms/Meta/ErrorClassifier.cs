using SocialSync.Contracts;
namespace SocialSync.PublisherService.Platforms.Meta;

/// <summary>
/// Classifies Meta errors by code and subcode (never by message text), as tabled in docs/publishing.md ("Errors:
/// class and reaction"). Unknown codes are permanent: retrying what we do not understand only burns quota. Meta's own
/// <c>is_transient: true</c> turns a would-be permanent error into a transient one (e.g. 100/33 during a Meta
/// incident); it never softens an auth or rate-limit error.
/// </summary>
public static class ErrorClassifier
{
    private static readonly Dictionary<(int Code, int Subcode), ErrorClass> BySubcode = new()
    {
        [(4, 2207051)] = ErrorClass.Permanent,      // suspected spam: pause, never auto-retry
        [(9, 2207042)] = ErrorClass.RateLimited,    // daily publishing quota reached
        [(10, 2534022)] = ErrorClass.Permanent,     // DM outside the allowed window
        [(24, 2207008)] = ErrorClass.Transient,     // media builder expired (temporary)
        [(24, 2207006)] = ErrorClass.Permanent,     // media not found
        [(25, 2207050)] = ErrorClass.Auth,          // account restricted: the user must act
        [(1, 2207057)] = ErrorClass.Permanent,      // thumb_offset out of range
    };

    private static readonly HashSet<int> TransientCodes = [1, 2, -1, -2, 131000, 131016, 131057, 133004, 9004, 9007];
    private static readonly HashSet<int> RateLimitCodes = [4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80007, 80008, 80009, 80014, 130429, 131056, 131049];
    private static readonly HashSet<int> AuthCodes = [0, 10, 190, 131005];

    public static ErrorClass Classify(int code, int? subcode, bool? isTransient = null)
    {
        var byTable = ClassifyByTable(code, subcode);
        return byTable == ErrorClass.Permanent && isTransient == true ? ErrorClass.Transient : byTable;
    }

    private static ErrorClass ClassifyByTable(int code, int? subcode)
    {
        if (subcode is { } sub && BySubcode.TryGetValue((code, sub), out var special))
        {
            return special;
        }
        if (TransientCodes.Contains(code))
        {
            return ErrorClass.Transient;
        }
        if (RateLimitCodes.Contains(code))
        {
            return ErrorClass.RateLimited;
        }
        if (AuthCodes.Contains(code) || code is >= 200 and <= 299)
        {
            return ErrorClass.Auth;
        }
        return ErrorClass.Permanent;
    }

    /// <summary>True when <paramref name="code"/> is one this table names (anything else is logged as unknown).</summary>
    public static bool IsKnown(int code, int? subcode) =>
        (subcode is { } sub && BySubcode.ContainsKey((code, sub)))
        || TransientCodes.Contains(code) || RateLimitCodes.Contains(code) || AuthCodes.Contains(code)
        || code is >= 200 and <= 299 || KnownPermanentCodes.Contains(code);

    private static readonly HashSet<int> KnownPermanentCodes =
    [
        3, 24, 25, 100, 352, 368, 36000, 36001, 36003, 36004, 131008, 131009, 131021, 131026, 131030, 131031, 131042,
        131045, 131047, 131048, 131050, 131051, 131053, 132000, 132001, 132005, 132007, 132012, 132015, 132016, 133010, 135000,
    ];
}
