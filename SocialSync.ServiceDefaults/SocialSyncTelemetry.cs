using System.Diagnostics;

namespace SocialSync.ServiceDefaults;

/// <summary>Names of the activity source and meters every SocialSync service emits.</summary>
public static class SocialSyncTelemetry
{
    public const string ActivitySourceName = "SocialSync";
    public const string MeterPrefix = "SocialSync.";

    public static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    public static class Tags
    {
        public const string PostId = "socialsync.post_id";
        public const string ChannelId = "socialsync.channel_id";
        public const string Platform = "socialsync.platform";
        public const string Attempt = "socialsync.attempt";
        public const string Outcome = "socialsync.outcome";
    }
}
