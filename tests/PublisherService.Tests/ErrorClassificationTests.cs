using SocialSync.PublisherService.Platforms;
using SocialSync.PublisherService.Platforms.Meta;
using SocialSync.Contracts;

namespace SocialSync.PublisherService.Tests;

/// <summary>Every code of Meta's error table (docs/publishing.md, "Errors"), with the class the publisher must give it.</summary>
public sealed class ErrorClassificationTests
{
    private const string T = "transient", R = "rate_limited", A = "auth", P = "permanent";

    public static TheoryData<int, int?, string> MetaErrorTable => new()
    {
        // Graph-wide
        { 1, null, T }, { 2, null, T }, { 3, null, P }, { 4, null, R }, { 10, null, A }, { 17, null, R }, { 17, 2446079, R },
        { 32, null, R }, { 100, null, P }, { 100, 33, P }, { 190, null, A }, { 190, 458, A }, { 190, 459, A }, { 190, 460, A },
        { 190, 463, A }, { 190, 464, A }, { 190, 467, A }, { 200, null, A }, { 210, null, A }, { 299, null, A }, { 341, null, R },
        { 368, null, P }, { 613, null, R }, { 613, 1996, R }, { 80000, null, R }, { 80001, null, R }, { 80002, null, R },
        { 80003, null, R }, { 80004, null, R }, { 80005, null, R }, { 80006, null, R }, { 80008, null, R }, { 80009, null, R },
        { 80014, null, R },
        // WhatsApp
        { 0, null, A }, { 80007, null, R }, { 130429, null, R }, { 131056, null, R }, { 131048, null, P }, { 131049, null, R },
        { 131000, null, T }, { 131016, null, T }, { 131057, null, T }, { 133004, null, T }, { 131005, null, A },
        { 131008, null, P }, { 131009, null, P }, { 135000, null, P }, { 131021, null, P }, { 131026, null, P },
        { 131030, null, P }, { 131030, 2655007, P }, { 131031, null, P }, { 131042, null, P }, { 131045, null, P },
        { 133010, null, P }, { 131047, null, P }, { 131050, null, P }, { 131051, null, P }, { 131053, null, P },
        { 132000, null, P }, { 132001, null, P }, { 132005, null, P }, { 132007, null, P }, { 132012, null, P },
        { 132015, null, P }, { 132016, null, P },
        // Instagram
        { -2, 2207003, T }, { -2, 2207020, T }, { -1, 2207001, T }, { -1, 2207032, T }, { -1, 2207053, T },
        { 1, 2207057, P }, { 4, 2207051, P }, { 9, 2207042, R }, { 24, 2207006, P }, { 24, 2207008, T }, { 25, 2207050, A },
        { 100, 2207023, P }, { 100, 2207028, P }, { 100, 2207035, P }, { 100, 2207036, P }, { 100, 2207037, P },
        { 100, 2207040, P }, { 352, 2207026, P }, { 9004, 2207052, T }, { 9007, 2207027, T }, { 36000, 2207004, P },
        { 36001, 2207005, P }, { 36003, 2207009, P }, { 36004, 2207010, P }, { 10, 2534022, P },
    };

    [Theory]
    [MemberData(nameof(MetaErrorTable))]
    public void Every_documented_code_gets_its_class_and_is_known(int code, int? subcode, string expected)
    {
        Assert.Equal(expected, Name(ErrorClassifier.Classify(code, subcode)));
        Assert.True(ErrorClassifier.IsKnown(code, subcode), $"{code}/{subcode} should be in the table");
    }

    [Theory]
    [InlineData(99999, null)]
    [InlineData(123, 456)]
    [InlineData(9, null)]
    public void Unknown_codes_are_permanent_and_reported_as_unknown(int code, int? subcode)
    {
        Assert.Equal(ErrorClass.Permanent, ErrorClassifier.Classify(code, subcode));
        Assert.False(ErrorClassifier.IsKnown(code, subcode));
    }

    [Theory]
    [InlineData(100, 33, true, T)]      // a Meta incident: the object read fails with is_transient
    [InlineData(99999, null, true, T)]  // unknown, but Meta says it is temporary
    [InlineData(100, 33, false, P)]
    [InlineData(190, 463, true, A)]     // never retry an expired token
    [InlineData(4, null, false, R)]     // a rate limit stays a rate limit
    public void Is_transient_only_softens_permanent_errors(int code, int? subcode, bool isTransient, string expected)
    {
        Assert.Equal(expected, Name(ErrorClassifier.Classify(code, subcode, isTransient)));
    }

    private static string Name(ErrorClass errorClass) => errorClass switch
    {
        ErrorClass.Transient => T,
        ErrorClass.RateLimited => R,
        ErrorClass.Auth => A,
        _ => P,
    };
}
