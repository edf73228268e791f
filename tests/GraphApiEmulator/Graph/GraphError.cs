using System.Text.Json.Nodes;

namespace SocialSync.GraphApiEmulator.Graph;

/// <summary>Which Meta product a request belongs to; decides some HTTP statuses and the error_data shape.</summary>
public enum Product
{
    Graph,
    WhatsApp,
    Instagram,
}

/// <summary>A Graph API error, rendered as Meta's envelope <c>{"error":{...}}</c>.</summary>
public sealed record GraphError(
    int Status,
    string Message,
    int Code,
    int? Subcode = null,
    string Type = "OAuthException",
    bool? IsTransient = null,
    string? Details = null,
    string? UserTitle = null,
    string? UserMessage = null)
{
    public JsonObject ToJson(Product product, string fbtraceId)
    {
        var error = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["code"] = Code,
        };
        if (Subcode is { } subcode)
        {
            error["error_subcode"] = subcode;
        }

        if (IsTransient is { } transient)
        {
            error["is_transient"] = transient;
        }

        if (product == Product.WhatsApp)
        {
            error["error_data"] = new JsonObject
            {
                ["messaging_product"] = "whatsapp",
                ["details"] = Details ?? Message,
            };
        }
        else if (Details is not null)
        {
            error["error_data"] = new JsonObject { ["details"] = Details };
        }

        if (UserTitle is not null)
        {
            error["error_user_title"] = UserTitle;
        }

        if (UserMessage is not null)
        {
            error["error_user_msg"] = UserMessage;
        }

        error["fbtrace_id"] = fbtraceId;
        return new JsonObject { ["error"] = error };
    }
}

/// <summary>Meta's error codes: HTTP status, default message, transience, rate-limit class, and named presets.</summary>
public static class ErrorCatalog
{
    public static int HttpStatusFor(int code, int? subcode, Product product)
    {
        if (subcode == 2534022)
        {
            return 403;
        }

        if (subcode is >= 2207000 and < 2208000)
        {
            return 400; // Instagram content publishing errors are all HTTP 400.
        }

        return code switch
        {
            0 => 401,
            2 => 503,
            3 => 500,
            4 => 429,
            10 => 403,
            190 => product == Product.WhatsApp ? 401 : 400,
            >= 200 and <= 299 => 403,
            368 => 403,
            80007 or 130429 or 131056 or 131048 => 429,
            131000 => 500,
            131016 or 133004 => 503,
            131005 or 131031 => 403,
            _ => 400,
        };
    }

    public static bool IsRateLimit(int code) => code is 4 or 17 or 32 or 613 or 80007 or 130429 or 131056 or 131048
        or (>= 80000 and <= 80014);

    public static bool IsAppLevelRateLimit(int code) => code is 4 or 17;

    public static bool? DefaultTransient(int code, int? subcode) => code switch
    {
        1 or 2 or 4 or 17 or 32 or 613 or 131000 or 131016 or 133004 or 130429 or 80007 or 131056 => true,
        -1 or -2 => true,
        9007 or 24 when subcode is 2207027 or 2207008 => true,
        >= 80000 and <= 80014 => true,
        _ => null,
    };

    public static string TypeFor(int code, int? subcode) => (code, subcode) switch
    {
        (100, 33) => "GraphMethodException",
        (10, 2534022) => "IGApiException",
        _ => "OAuthException",
    };

    public static string DefaultMessage(int code, int? subcode) => (code, subcode) switch
    {
        (190, 463) => "Error validating access token: Session has expired.",
        (190, 460) => "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",
        (190, 458) => "Error validating access token: The user has not authorized application.",
        (190, 459) => "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint.",
        (190, 464) => "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.",
        (190, _) => "Invalid OAuth access token - Cannot parse access token",
        (100, 33) => "Unsupported request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        (10, 2534022) => "This message is sent outside of allowed window.",
        (9007, _) => "Media ID is not available",
        (9, _) => "Application request limit reached",
        (24, _) => "The media could not be found.",
        (25, _) => "The Instagram account is restricted.",
        (36004, _) => "The caption is too long.",
        (36000, _) => "The image is too large.",
        (36001, _) => "The image format is not supported.",
        (36003, _) => "The aspect ratio is not supported.",
        (9004, _) => "Media could not be fetched from URI.",
        (-1, _) => "An unexpected error has occurred. Please retry your request later.",
        (-2, _) => "A temporary error has occurred. Please retry your request later.",
        (0, _) => "(#0) AuthException",
        (1, _) => "An unknown error occurred",
        (2, _) => "An unexpected error has occurred. Please retry your request later.",
        (3, _) => "(#3) Application does not have the capability to make this API call.",
        (4, _) => "(#4) Application request limit reached",
        (10, _) => "(#10) Application does not have permission for this action",
        (17, _) => "(#17) User request limit reached",
        (32, _) => "(#32) Page request limit reached",
        (100, _) => "(#100) Invalid parameter",
        (>= 200 and <= 299, _) => $"(#{code}) Permissions error",
        (368, _) => "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
        (613, _) => "(#613) Calls to this api have exceeded the rate limit.",
        (80002, _) => "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.",
        (80007, _) => "(#80007) Rate limit issues",
        (80008, _) => "(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.",
        (>= 80000 and <= 80014, _) => $"(#{code}) There have been too many calls from this ad-account. Wait a bit and try again.",
        (130429, _) => "(#130429) Rate limit hit",
        (131000, _) => "(#131000) Something went wrong",
        (131005, _) => "(#131005) Access denied",
        (131008, _) => "(#131008) Required parameter is missing",
        (131009, _) => "(#131009) Parameter value is not valid",
        (131016, _) => "(#131016) Service unavailable",
        (131026, _) => "(#131026) Message undeliverable",
        (131031, _) => "(#131031) Account has been locked",
        (131047, _) => "(#131047) Re-engagement message",
        (131048, _) => "(#131048) Spam rate limit hit",
        (131053, _) => "(#131053) Media upload error",
        (131056, _) => "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        (133004, _) => "(#133004) Server temporarily unavailable",
        _ => $"(#{code}) Error",
    };

    public static string? DefaultDetails(int code) => code switch
    {
        130429 => "Cloud API message throughput has been reached.",
        131047 => "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        131056 => "Too many messages sent from this phone number to the same phone number in a short period of time.",
        131053 => "Unable to download the media sent by the business.",
        _ => null,
    };

    public static (string? Title, string? Message) UserText(int? subcode) => subcode switch
    {
        2207027 => ("Media Not Ready For Publishing", "The media is not ready for publishing, please wait for a moment"),
        2207042 => ("Maximum number of posts reached", "The account has reached its publishing limit for the rolling 24 hours."),
        2207010 => ("Caption too long", "The caption exceeds 2200 characters, 30 hashtags or 20 @ tags."),
        2207028 => ("Carousel item count", "A carousel must contain between 2 and 10 items."),
        2207023 => ("Unknown media type", "The media type is not supported."),
        2207020 => ("Media expired", "The media you are trying to access has expired. Please try to upload again."),
        2207008 => ("Media builder expired", "The media builder does not exist or has expired. Please retry in a moment."),
        2207051 => ("Action blocked", "This action was blocked because it looks like spam."),
        2207050 => ("Account restricted", "The Instagram account is inactive, checkpointed or restricted."),
        2207052 => ("Media download failed", "The media could not be fetched from the URI."),
        2207004 => ("Image too large", "The image exceeds 8 MiB."),
        2207005 => ("Unsupported image format", "Only JPEG images are supported."),
        2207009 => ("Aspect ratio not supported", "The aspect ratio must be between 4:5 and 1.91:1."),
        _ => (null, null),
    };

    /// <summary>Builds an error with the catalog's defaults for anything not given.</summary>
    public static GraphError Create(int code, int? subcode, Product product, string? message = null, int? status = null,
        bool? isTransient = null, string? details = null)
    {
        var (title, userMessage) = UserText(subcode);
        return new GraphError(
            status ?? HttpStatusFor(code, subcode, product),
            message ?? DefaultMessage(code, subcode),
            code,
            subcode,
            TypeFor(code, subcode),
            isTransient ?? DefaultTransient(code, subcode),
            details ?? DefaultDetails(code),
            title,
            userMessage);
    }

    public static GraphError ObjectNotFound(string id, Product product = Product.Graph) => Create(100, 33, product,
        $"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api");

    public static GraphError UnsupportedPost(string id, Product product = Product.Graph) => Create(100, 33, product,
        $"Unsupported post request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api");

    public static GraphError InvalidParameter(string message, Product product, int? subcode = null) =>
        Create(100, subcode, product, message.StartsWith("(#", StringComparison.Ordinal) ? message : $"(#100) {message}", details: message);

    /// <summary>A named fault preset: code/subcode (or a raw response), with optional HTTP status override.</summary>
    public sealed record Preset(int Code, int? Subcode = null, int? Status = null, bool? IsTransient = null, string? RawBody = null, string? RawContentType = null);

    public static readonly IReadOnlyDictionary<string, Preset> Presets = new Dictionary<string, Preset>(StringComparer.OrdinalIgnoreCase)
    {
        ["app_rate_limit"] = new(4),
        ["user_rate_limit"] = new(17, 2446079),
        ["page_rate_limit"] = new(32),
        ["custom_rate_limit"] = new(613),
        ["custom_rate_limit_1996"] = new(613, 1996),
        ["ig_rate_limit"] = new(80002),
        ["page_buc_rate_limit"] = new(80001),
        ["waba_rate_limit"] = new(80008),
        ["wa_waba_rate_limit"] = new(80007),
        ["wa_throughput"] = new(130429),
        ["wa_pair_rate_limit"] = new(131056),
        ["wa_spam_rate_limit"] = new(131048),
        ["wa_reengagement"] = new(131047),
        ["wa_undeliverable"] = new(131026),
        ["wa_media_error"] = new(131053),
        ["wa_unknown"] = new(131000),
        ["wa_service_unavailable"] = new(131016),
        ["wa_server_unavailable"] = new(133004),
        ["wa_account_locked"] = new(131031),
        ["wa_access_denied"] = new(131005),
        ["wa_auth"] = new(0),
        ["unknown_error"] = new(1),
        ["unknown_error_500"] = new(1, Status: 500, IsTransient: true),
        ["service_unavailable"] = new(2),
        ["capability"] = new(3),
        ["token_invalid"] = new(190),
        ["token_expired"] = new(190, 463),
        ["password_changed"] = new(190, 460),
        ["permission_denied"] = new(10),
        ["permission_error"] = new(200),
        ["policy_block"] = new(368),
        ["object_not_found"] = new(100, 33),
        ["invalid_parameter"] = new(100),
        ["ig_not_ready"] = new(9007, 2207027),
        ["ig_builder_expired"] = new(24, 2207008),
        ["ig_media_not_found"] = new(24, 2207006),
        ["ig_quota"] = new(9, 2207042),
        ["ig_spam"] = new(4, 2207051),
        ["ig_restricted"] = new(25, 2207050),
        ["ig_fetch_failed"] = new(9004, 2207052),
        ["ig_server_error"] = new(-1, 2207001),
        ["ig_create_failed"] = new(-1, 2207032),
        ["ig_upload_timeout"] = new(-2, 2207003),
        ["ig_media_expired"] = new(-2, 2207020),
        ["ig_caption_too_long"] = new(36004, 2207010),
        ["dm_outside_window"] = new(10, 2534022),
        ["bad_gateway_html"] = new(0, Status: 502, RawBody: "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>", RawContentType: "text/html"),
        ["empty_500"] = new(0, Status: 500, RawBody: "", RawContentType: "text/plain"),
        ["empty_200"] = new(0, Status: 200, RawBody: "", RawContentType: "application/json"),
    };
}
